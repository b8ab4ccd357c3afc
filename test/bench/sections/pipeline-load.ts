import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

/** What the load thread is asked to do: `total` deliveries by `clients` closed-loop clients. */
export interface LoadTask {
  readonly apiUrl: string;
  /** The request body, but for the destination filename, which each delivery makes unique. */
  readonly request: { source: unknown; upload: { destination: Record<string, unknown> } };
  readonly clients: number;
  readonly total: number;
  readonly label: string;
}

export interface LoadResult {
  readonly seconds: number;
  /** CPU time of this thread (the clients and their callback receiver), in ms. */
  readonly cpuMs: number;
  readonly deliveries: readonly { readonly token: string; readonly roundTripMs: number }[];
}

/**
 * The clients of the pipeline benchmark, in a thread of their own so that what they cost is not
 * counted against the pipeline: each sends a job, waits for its signed callback, sends the next.
 */
const task = workerData as LoadTask;
const waiting = new Map<string, () => void>();
const early = new Set<string>();
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const { token } = JSON.parse(Buffer.concat(chunks).toString()) as { token: string };
    response.writeHead(204).end();
    const resolve = waiting.get(token);
    if (resolve) resolve();
    else early.add(token);
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

let sequence = 0;
async function deliverOne(): Promise<{ token: string; roundTripMs: number }> {
  const sent = performance.now();
  const { destination } = task.request.upload;
  const response = await fetch(`${task.apiUrl}/v1/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...task.request,
      upload: { ...task.request.upload, destination: { ...destination, filename: `bench/${task.label}/${(sequence += 1)}.bin` } },
      callback_url: callbackUrl,
    }),
  });
  const { token } = (await response.json()) as { token: string };
  if (response.status !== 202) throw new Error(`POST answered ${response.status}`);
  if (!early.delete(token)) await new Promise<void>((resolve) => waiting.set(token, resolve));
  waiting.delete(token);
  return { token, roundTripMs: performance.now() - sent };
}

// Ready: the host starts its clocks, then lets the clients go, so this thread's start is not counted.
const port = parentPort!;
await new Promise<void>((resolve) => {
  port.once('message', () => resolve());
  port.postMessage('ready');
});
let started = 0;
const deliveries: { token: string; roundTripMs: number }[] = [];
const begin = performance.now();
const cpuBefore = process.threadCpuUsage();
await Promise.all(
  Array.from({ length: task.clients }, async () => {
    while (started < task.total) {
      started += 1;
      deliveries.push(await deliverOne());
    }
  }),
);
const seconds = (performance.now() - begin) / 1000;
const cpu = process.threadCpuUsage(cpuBefore);
receiver.close();
port.postMessage({ seconds, cpuMs: (cpu.user + cpu.system) / 1000, deliveries } satisfies LoadResult);
