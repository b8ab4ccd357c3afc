/*
 * `node:http` for the function bundles (infra/function-bundle.ts puts this module in its place). An
 * ES module importing `node:http` makes Node read every export of it, and one of them, `WebSocket`,
 * loads Node's own copy of undici: about 20 ms of every cold start for a client nobody uses. Taken
 * as CommonJS, the module is handed over as it is.
 */
module.exports = process.getBuiltinModule('node:http');
