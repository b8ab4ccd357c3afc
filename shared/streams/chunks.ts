import type { Readable } from 'node:stream';

/**
 * Cuts a byte stream into parts of the sizes `partSize(index)` asks for (the last one may be
 * shorter). Each part is its own buffer from `allocate`, so a part handed to an upload stays valid
 * while the next is filled; the stream is read no faster than parts are taken.
 */
export async function* readParts(
  stream: Readable,
  partSize: (index: number) => number,
  allocate: (size: number) => Buffer = Buffer.allocUnsafe,
): AsyncGenerator<Buffer> {
  let index = 0;
  let part = allocate(partSize(index));
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (data.length > 0) {
      const taken = Math.min(part.length - filled, data.length);
      data.copy(part, filled, 0, taken);
      filled += taken;
      data = data.subarray(taken);
      if (filled === part.length) {
        yield part;
        index += 1;
        part = allocate(partSize(index));
        filled = 0;
      }
    }
  }
  if (filled > 0 || index === 0) yield part.subarray(0, filled);
}
