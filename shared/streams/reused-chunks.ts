import { BufferPool } from './buffer-pool.ts';

/**
 * The buffers a source's answer is read into ({@link ../net/pooled-get.ts}), taken back once a
 * reader has copied them out, so a long read fills the same few buffers again instead of fresh
 * memory for each socket read. Fresh memory is what a download costs most: Node's HTTP client
 * hands out a new buffer per 64 KiB read, and the page faults of filling them, with the garbage
 * collector finding them late, doubled the CPU of reading a file and grew the process's memory
 * with the file's size (measured in the bench README, "Source reads into reused buffers").
 *
 * Only a buffer this module gave out, whole, is taken back, and only once: a view of one, or a
 * buffer from anywhere else, is left to the garbage collector, so giving back what a reader was
 * not handed by this module is harmless. A reader gives a chunk back only when nothing else holds
 * it: once its bytes have been copied out of it.
 */

/** Bytes of each chunk: a socket read lands in the chunk's free end until it is full. */
export const reusedChunkBytes = 256 * 1024;

/** Chunks kept for reuse at most: four parts in flight, each with its streams' buffers full. */
const pool = new BufferPool(32);
/** The chunks out now: given back, each one leaves this set, so a second give-back is ignored. */
const out = new WeakSet<Buffer>();

/** A chunk to read into: one given back before, or a new one. */
export function takeChunk(): Buffer {
  const chunk = pool.take(reusedChunkBytes);
  out.add(chunk);
  return chunk;
}

/** Gives back a chunk whose bytes have been copied out; anything else is ignored. */
export function releaseChunk(chunk: Uint8Array): void {
  if (chunk instanceof Buffer && out.delete(chunk)) pool.give(chunk);
}
