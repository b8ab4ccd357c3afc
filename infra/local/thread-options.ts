/**
 * The Node options of a local runtime thread. Its own module (`server-worker.ts`,
 * `function-worker.ts`) is TypeScript that Node runs by stripping the types, and the functions it
 * loads are bundles with source maps, so no TypeScript loader is needed (one costs each thread about
 * half a second of start-up). The process's CPU profiling flags are passed on (`node --cpu-prof`
 * then writes one profile per function and server thread, which an explicit `execArgv` would
 * otherwise drop), and so are the warnings it silences.
 */
export function threadExecArgv(parent: readonly string[] = process.execArgv): string[] {
  return [...parent.filter((flag) => /^--(cpu-prof(-dir|-name|-interval)?|no-warnings|disable-warning)(=|$)/.test(flag)), '--enable-source-maps'];
}
