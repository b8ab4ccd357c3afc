import type { Readable } from 'node:stream';
import { releaseChunk } from './reused-chunks.ts';

/**
 * Cuts a byte stream into parts of the sizes `partSize(index)` asks for (the last one may be
 * shorter). Each part is its own buffer from `allocate`, taken only when the part's first byte
 * arrives, so a part handed to an upload stays valid while the next is filled and a small source
 * never costs a full part; the stream is read no faster than parts are taken.
 */
export async function* readParts(
  stream: Readable,
  partSize: (index: number) => number,
  allocate: (size: number) => Buffer = Buffer.allocUnsafe,
): AsyncGenerator<Buffer> {
  let index = 0;
  let part: Buffer | undefined;
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (data.length > 0) {
      part ??= allocate(partSize(index));
      const taken = Math.min(part.length - filled, data.length);
      data.copy(part, filled, 0, taken);
      filled += taken;
      data = data.subarray(taken);
      if (filled === part.length) {
        yield part;
        index += 1;
        part = undefined;
        filled = 0;
      }
    }
    // Every byte of it has been copied into a part: a chunk a source was read into is read into again.
    if (typeof chunk !== 'string') releaseChunk(chunk);
  }
  if (part) yield part.subarray(0, filled);
  else if (index === 0) yield Buffer.alloc(0);
}
