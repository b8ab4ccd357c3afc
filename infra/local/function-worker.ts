import { parentPort, workerData } from 'node:worker_threads';
import { lambdaContext } from './lambda-context.ts';

/** One invocation, as the host sends it. */
export interface Invocation {
  readonly id: number;
  readonly event: unknown;
}

/** Its outcome, as the worker answers. */
export type InvocationOutcome = { readonly id: number; readonly result: unknown } | { readonly id: number; readonly error: string };

export interface FunctionWorkerData {
  /** URL of the handler module. */
  readonly entry: string;
  readonly functionName: string;
  readonly timeoutSeconds: number;
}

/**
 * The inside of a local function: imports the handler module once (its cold start, with its own
 * environment) and runs each invocation the host posts, like one Lambda execution environment.
 */
const { entry, functionName, timeoutSeconds } = workerData as FunctionWorkerData;
const module = (await import(entry)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
const port = parentPort!;
port.on('message', (invocation: Invocation) => {
  module.handler(invocation.event, lambdaContext(functionName, timeoutSeconds)).then(
    (result) => port.postMessage({ id: invocation.id, result } satisfies InvocationOutcome),
    (error: unknown) => port.postMessage({ id: invocation.id, error: error instanceof Error ? error.message : String(error) } satisfies InvocationOutcome),
  );
});
port.postMessage('ready');
