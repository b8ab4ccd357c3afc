import { Worker } from 'node:worker_threads';
import type { ServerMessage, ServerSpec } from './server-worker.ts';
import { threadExecArgv } from './thread-options.ts';

export interface ServerThread {
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  /** S3 event notifications (s3rver only). */
  onEvent(listener: (event: unknown) => void): void;
  /** Requests served so far by action (dynalite and fauxqs: the JSON protocol's `X-Amz-Target`). */
  requestCounts(): Promise<Readonly<Record<string, number>>>;
  stop(): Promise<void>;
}

/**
 * Runs an embedded server (dynalite, fauxqs, s3rver) in a worker thread of its own, so the servers
 * and the functions spread over the machine's cores instead of queueing on one.
 */
export async function startServerThread(spec: ServerSpec): Promise<ServerThread> {
  const worker = new Worker(new URL('./server-worker.ts', import.meta.url), { workerData: spec, execArgv: threadExecArgv() });
  const listeners: ((event: unknown) => void)[] = [];
  const countRequests: ((counts: Readonly<Record<string, number>>) => void)[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    worker.on('message', (message: ServerMessage) => {
      if ('port' in message) resolve(message.port);
      else if ('counts' in message) countRequests.shift()?.(message.counts);
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
        countRequests.push(resolve);
        worker.postMessage('counts');
      }),
    stop: async () => {
      await worker.terminate();
    },
  };
}
