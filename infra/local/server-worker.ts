import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventEmitter } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import S3rver from 's3rver';
import { servedAction } from './served-action.ts';

/** Which embedded server a thread runs, and its settings. */
export type ServerSpec =
  | { readonly kind: 'dynalite'; readonly port: number }
  | { readonly kind: 'fauxqs'; readonly port: number }
  | { readonly kind: 's3rver'; readonly port: number; readonly directory: string; readonly buckets: readonly string[] };

/** What the host asks the thread: the requests it has served, or the CPU time its thread has used. */
export type ServerQuestion = 'counts' | 'cpu';

/**
 * What the thread tells its host: its port once listening, then (s3rver) each S3 event, and
 * answers to its questions: its request counts, its thread's CPU time in ms.
 */
export type ServerMessage =
  | { readonly port: number }
  | { readonly event: unknown }
  | { readonly counts: Readonly<Record<string, number>> }
  | { readonly cpuMs: number };

/** Requests served, by action (`servedAction`): what the cost model counts. */
const counts: Record<string, number> = {};

/**
 * Counts every request `server` answers, once answered (a receive is told apart by what it found).
 * Only a receive's answer is kept to be read: the others are counted by their target alone.
 */
function countRequests(server: Server): void {
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const target = request.headers['x-amz-target'];
    const receive = typeof target === 'string' && target.endsWith('.ReceiveMessage');
    const chunks: Buffer[] = [];
    if (receive) {
      const { write, end } = response;
      const keep = (chunk: unknown): void => {
        if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
      };
      response.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
        keep(chunk);
        return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      } as ServerResponse['write'];
      response.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
        if (typeof chunk !== 'function') keep(chunk);
        return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
      } as ServerResponse['end'];
    }
    response.once('finish', () => {
      const action = servedAction(request.method, target, () => Buffer.concat(chunks).toString());
      counts[action] = (counts[action] ?? 0) + 1;
    });
  });
}

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** The inside of a server thread: one embedded server on loopback, until the host terminates it. */
async function start(spec: ServerSpec): Promise<number> {
  switch (spec.kind) {
    case 'dynalite': {
      const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
      countRequests(server);
      return listen(server, spec.port);
    }
    case 'fauxqs': {
      const app = buildApp({ logger: false });
      countRequests(app.server);
      await app.listen({ port: spec.port, host: '127.0.0.1' });
      return (app.server.address() as AddressInfo).port;
    }
    case 's3rver': {
      const backend = new S3rver({
        address: '127.0.0.1',
        port: spec.port,
        silent: true,
        directory: spec.directory,
        configureBuckets: spec.buckets.map((name) => ({ name, configs: [] })),
      });
      (backend as unknown as EventEmitter).on('event', (event: unknown) => parentPort!.postMessage({ event } satisfies ServerMessage));
      return ((await backend.run()) as AddressInfo).port;
    }
  }
}

parentPort!.postMessage({ port: await start(workerData as ServerSpec) } satisfies ServerMessage);
parentPort!.on('message', (question: ServerQuestion) => {
  if (question === 'counts') parentPort!.postMessage({ counts: { ...counts } } satisfies ServerMessage);
  if (question === 'cpu') {
    const { user, system } = process.threadCpuUsage();
    parentPort!.postMessage({ cpuMs: (user + system) / 1000 } satisfies ServerMessage);
  }
});
