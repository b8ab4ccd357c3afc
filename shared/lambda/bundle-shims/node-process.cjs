/*
 * `node:process` for the function bundles (infra/function-bundle.ts puts this module in its place):
 * an ES module importing it makes Node read every property of `process`, some of them costly
 * getters (about 4 ms of a cold start); this hands over the object itself.
 */
module.exports = process;
