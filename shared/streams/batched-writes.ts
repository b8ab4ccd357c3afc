import { finished, Writable } from 'node:stream';

/** How much may gather while a write is under way: sixteen of a socket source's 64 KiB chunks. */
const batchBytes = 1024 * 1024;

/**
 * A writable in front of `destination` that passes on, as one corked batch, every chunk that came
 * while the previous write was under way, so they leave in one writev instead of a syscall (over
 * TLS, a run of records) each. A source's chunks are 16–64 KiB, and on a fast link the cost of
 * a write is mostly the call, not the bytes. Nothing is copied: the batch is the source's own
 * buffers. Destroying it destroys `destination` (the receiver must not take a short body as
 * whole), and a `destination` that fails or closes early fails it.
 */
export function batchedWrites(destination: Writable): Writable {
  const batcher = new Writable({
    highWaterMark: batchBytes,
    write(chunk: Buffer, _encoding, callback) {
      destination.write(chunk, callback);
    },
    writev(chunks, callback) {
      destination.cork();
      const last = chunks.length - 1;
      chunks.forEach(({ chunk }, index) => destination.write(chunk, index === last ? callback : undefined));
      destination.uncork();
    },
    final(callback) {
      destination.end();
      finished(destination, { readable: false }, (error) => callback(error ?? null));
    },
    destroy(error, callback) {
      if (error) destination.destroy(error);
      callback(error);
    },
  });
  finished(destination, { readable: false }, (error) => {
    if (error) batcher.destroy(error);
  });
  return batcher;
}
