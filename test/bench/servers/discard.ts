import { crc32 } from 'node:zlib';
import { crc32Combine } from '../../../shared/delivery/checksum.ts';
import { listenOnLoopback } from './tls.ts';
import { UploadClock } from './upload-clock.ts';

/**
 * The ceiling: a server that takes any PUT, counts the bytes, throws them away and answers 200.
 * No protocol, no digests, so a plain streamed PUT into it is the fastest any client can send.
 * Several PUTs to one path with `?part=1…N` (the parallel ceiling) are one upload: their bytes
 * add up, and their CRC-32s combine in part order into the whole file's.
 */
export interface DiscardServer {
  readonly endpoint: string;
  readonly clock: UploadClock;
  /** When true, the CRC32 of each body is computed (verification runs only). */
  verify: boolean;
  received(path: string): ReceivedUpload | undefined;
  close(): Promise<void>;
}

/** What arrived for one path: every request's bytes, summed, and the CRC-32 of their concatenation. */
export interface ReceivedUpload {
  readonly bytes: number;
  /** Computed in verification runs only. */
  readonly crc32: number | undefined;
  readonly requests: number;
}

/** One request body's count and CRC-32, by the part number it named (1 when none). */
export type ReceivedBody = { readonly part: number; readonly bytes: number; readonly crc32: number | undefined };

/** The bodies of one path as one upload, in part order. */
export function combineBodies(bodies: readonly ReceivedBody[]): ReceivedUpload {
  const ordered = [...bodies].sort((a, b) => a.part - b.part);
  let crc: number | undefined = 0;
  let bytes = 0;
  for (const body of ordered) {
    crc = crc === undefined || body.crc32 === undefined ? undefined : bytes === 0 ? body.crc32 : crc32Combine(crc, body.crc32, body.bytes);
    bytes += body.bytes;
  }
  return { bytes, crc32: crc, requests: ordered.length };
}

export async function startDiscardServer(options: { tls?: { key: Buffer; cert: Buffer } } = {}): Promise<DiscardServer> {
  const clock = new UploadClock();
  const bodies = new Map<string, ReceivedBody[]>();
  const state = { verify: false };
  const listener = clock.wrap((request, response) => {
    const url = new URL(request.url ?? '/', 'http://discard');
    const path = decodeURIComponent(url.pathname);
    const part = Number(url.searchParams.get('part') ?? '1');
    const verify = state.verify;
    let bytes = 0;
    let value = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (verify) value = crc32(chunk, value);
    });
    request.on('end', () => {
      bodies.set(path, [...(bodies.get(path) ?? []), { part, bytes, crc32: verify ? value >>> 0 : undefined }]);
      const body = JSON.stringify({ bytes });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    });
  });
  const { server, endpoint } = await listenOnLoopback(listener, options.tls);
  return Object.assign(state, {
    endpoint,
    clock,
    received: (path: string) => {
      const received = bodies.get(path);
      return received ? combineBodies(received) : undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
