import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventHeader, signatureHeader, signCallback } from '../../../shared/delivery/callback.ts';

/** One callback as it arrived. */
export interface ReceivedCallback {
  readonly token: string;
  readonly state: string;
  /** Each destination's state, in order. */
  readonly destinations: readonly string[];
  /** Whether its signature checked out against the deployment's signing key. */
  readonly signed: boolean;
  /** When it arrived (epoch milliseconds). */
  readonly at: number;
}

export interface CallbackReceiver {
  /** `http://127.0.0.1:PORT/hook` */
  readonly url: string;
  /** Every callback received, by job token, in arrival order. */
  readonly received: ReadonlyMap<string, readonly ReceivedCallback[]>;
  /** Sets the key signatures are checked with (each runtime may make its own). */
  useSigningKey(key: string): void;
  close(): Promise<void>;
}

/** Checks a callback as a receiver would: the signature over its time, event id, the URL it was sent to and its body. */
function signatureMatches(headers: IncomingHttpHeaders, url: string, body: string, key: string): boolean {
  const header = headers[signatureHeader];
  const eventId = headers[eventHeader];
  if (typeof header !== 'string' || typeof eventId !== 'string') return false;
  const seconds = Number(/(?:^|,)t=(\d+)/.exec(header)?.[1]);
  if (!Number.isInteger(seconds)) return false;
  const expected = signCallback(body, key, new Date(seconds * 1000), { url, eventId });
  return header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
}

/** The callback endpoint jobs name: records each signed POST, answers 204. */
export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const received = new Map<string, ReceivedCallback[]>();
  let signingKey = '';
  let url = '';
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      try {
        const job = JSON.parse(body) as { token: string; state: string; destinations: { state: string }[] };
        const callback: ReceivedCallback = {
          token: job.token,
          state: job.state,
          destinations: job.destinations.map((destination) => destination.state),
          signed: signatureMatches(request.headers, url, body, signingKey),
          at: Date.now(),
        };
        received.set(job.token, [...(received.get(job.token) ?? []), callback]);
        response.writeHead(204).end();
      } catch {
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    useSigningKey: (key) => {
      signingKey = key;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
