import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventHeader, signatureHeader } from '../../../shared/delivery/callback.ts';

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

/** Checks a callback's signature as the README tells a receiver to: over its time, its event id, the URL it was sent to, and its body. */
function signatureMatches(headers: IncomingHttpHeaders, sentTo: string, body: string, key: string): boolean {
  const parts = Object.fromEntries(String(headers[signatureHeader] ?? '').split(',').map((part) => part.split('=') as [string, string]));
  const eventId = headers[eventHeader];
  if (!parts.t || !parts.v1 || typeof eventId !== 'string') return false;
  const expected = createHmac('sha256', key).update(`${parts.t}.${eventId}.${sentTo}.${body}`).digest('hex');
  return parts.v1.length === expected.length && timingSafeEqual(Buffer.from(parts.v1), Buffer.from(expected));
}

/** The callback endpoint jobs name: records each signed POST, answers 204. */
export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const received = new Map<string, ReceivedCallback[]>();
  let signingKey = '';
  // The address jobs name, which each signature covers: known once the server listens.
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
