import { Worker } from 'node:worker_threads';
import type { ServerMessage, ServerQuestion, ServerSpec } from './server-worker.ts';
import { threadExecArgv } from './thread-options.ts';

export interface ServerThread {
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  /** S3 event notifications (s3rver only). */
  onEvent(listener: (event: unknown) => void): void;
  /** Requests served so far by action (dynalite and fauxqs: the JSON protocol's `X-Amz-Target`). */
  requestCounts(): Promise<Readonly<Record<string, number>>>;
  /** CPU time the server's thread has used so far, in ms (what the benchmarks charge to the stand-in). */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Runs an embedded server (dynalite, fauxqs, s3rver) in a worker thread of its own, so the servers
 * and the functions spread over the machine's cores instead of queueing on one.
 */
export async function startServerThread(spec: ServerSpec): Promise<ServerThread> {
  // fauxqs keeps its queues in node:sqlite, which warns that it is experimental: a stand-in's
  // business, not news for whoever runs the pipeline or the tests.
  const execArgv = [...threadExecArgv(), '--disable-warning=ExperimentalWarning'];
  const worker = new Worker(new URL('./server-worker.ts', import.meta.url), { workerData: spec, execArgv });
  const listeners: ((event: unknown) => void)[] = [];
  // Answers come in the order of their questions, per kind.
  const answers = { counts: [] as ((counts: Readonly<Record<string, number>>) => void)[], cpu: [] as ((cpuMs: number) => void)[] };
  const port = await new Promise<number>((resolve, reject) => {
    worker.on('message', (message: ServerMessage) => {
      if ('port' in message) resolve(message.port);
      else if ('counts' in message) answers.counts.shift()?.(message.counts);
      else if ('cpuMs' in message) answers.cpu.shift()?.(message.cpuMs);
      else for (const listener of listeners) listener(message.event);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the ${spec.kind} thread exited with code ${code} before listening`)));
  });
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    onEvent: (listener) => listeners.push(listener),
    requestCounts: () =>
      new Promise((resolve) => {
        answers.counts.push(resolve);
        worker.postMessage('counts' satisfies ServerQuestion);
      }),
    cpuMs: () =>
      new Promise((resolve) => {
        answers.cpu.push(resolve);
        worker.postMessage('cpu' satisfies ServerQuestion);
      }),
    stop: async () => {
      await worker.terminate();
    },
  };
}
