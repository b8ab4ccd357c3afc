import { crc32 } from 'node:zlib';
import { listenOnLoopback } from './tls.ts';
import { UploadClock } from './upload-clock.ts';

/**
 * The ceiling: a server that takes any PUT, counts the bytes, throws them away and answers 200.
 * No protocol, no digests, so a plain streamed PUT into it is the fastest any client can send.
 */
export interface DiscardServer {
  readonly endpoint: string;
  readonly clock: UploadClock;
  /** When true, the CRC32 of each body is computed (verification runs only). */
  verify: boolean;
  received(path: string): { bytes: number; crc32: number | undefined } | undefined;
  close(): Promise<void>;
}

export async function startDiscardServer(options: { tls?: { key: Buffer; cert: Buffer } } = {}): Promise<DiscardServer> {
  const clock = new UploadClock();
  const bodies = new Map<string, { bytes: number; crc32: number | undefined }>();
  const state = { verify: false };
  const listener = clock.wrap((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://discard').pathname);
    const verify = state.verify;
    let bytes = 0;
    let value = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (verify) value = crc32(chunk, value);
    });
    request.on('end', () => {
      bodies.set(path, { bytes, crc32: verify ? value >>> 0 : undefined });
      const body = JSON.stringify({ bytes });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    });
  });
  const { server, endpoint } = await listenOnLoopback(listener, options.tls);
  return Object.assign(state, {
    endpoint,
    clock,
    received: (path: string) => bodies.get(path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
