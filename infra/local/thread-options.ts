/**
 * The Node options of a local runtime thread: TypeScript loaded as the runtime itself is, and the
 * process's CPU profiling flags passed on (`node --cpu-prof` then writes one profile per function
 * and server thread, which an explicit `execArgv` would otherwise drop).
 */
export function threadExecArgv(parent: readonly string[] = process.execArgv): string[] {
  return [...parent.filter((flag) => /^--cpu-prof(-dir|-name|-interval)?(=|$)/.test(flag)), '--import', 'tsx'];
}
