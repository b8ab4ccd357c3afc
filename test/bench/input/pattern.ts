import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';

/**
 * The bytes every client uploads: a deterministic pseudo-random pattern, generated as a stream so
 * a 4 GiB source never touches the disk or the heap. Every process that generates it (the bench,
 * each client worker) produces the same bytes, so the receiving end can check what arrived.
 */

/** Chunk size of the generated stream: what an HTTP or S3 source stream typically yields. */
export const patternChunkSize = 64 * 1024;
const templateSize = 1024 * 1024;

let template: Buffer | undefined;

/** 1 MiB of xorshift32 output: incompressible enough that no transport can shortcut it. */
function patternTemplate(): Buffer {
  if (template) return template;
  const words = new Uint32Array(templateSize / 4);
  let state = 0x9e3779b9;
  for (let index = 0; index < words.length; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[index] = state >>> 0;
  }
  template = Buffer.from(words.buffer);
  return template;
}

/** Bytes [offset, offset + length) of the pattern; length never crosses a template boundary. */
function slice(offset: number, length: number): Buffer {
  const start = offset % templateSize;
  // A fresh buffer per chunk, as a real source delivers: an uploader that holds on to chunks
  // pays for them in memory, which is what the memory section measures.
  const chunk = Buffer.allocUnsafe(length);
  patternTemplate().copy(chunk, 0, start, start + length);
  return chunk;
}

/** A readable stream of `size` bytes of the pattern from byte `start`, in 64 KiB chunks. */
export function patternStream(size: number, start = 0): Readable {
  let offset = start;
  const end = start + size;
  return new Readable({
    highWaterMark: patternChunkSize,
    read() {
      if (offset >= end) {
        this.push(null);
        return;
      }
      const length = Math.min(patternChunkSize, end - offset, templateSize - (offset % templateSize));
      const chunk = slice(offset, length);
      offset += length;
      this.push(chunk);
    },
  });
}

/** The consecutive byte ranges of `count` requests that together carry `size` bytes (an empty file: one). */
export function patternRanges(size: number, count: number): { start: number; size: number }[] {
  const each = Math.ceil(size / count);
  const ranges: { start: number; size: number }[] = [];
  for (let start = 0; start < size || ranges.length === 0; start += each) ranges.push({ start, size: Math.min(each, size - start) });
  return ranges;
}

/** CRC32 of the first `size` bytes (what a correct upload of `size` bytes must store). */
export function patternCrc32(size: number): number {
  const whole = patternTemplate();
  let value = 0;
  let remaining = size;
  while (remaining > 0) {
    const length = Math.min(remaining, templateSize);
    value = crc32(length === templateSize ? whole : whole.subarray(0, length), value);
    remaining -= length;
  }
  return value >>> 0;
}

/** Writes the pattern to a file, for the command-line tools that upload files, not streams. */
export async function writePatternFile(path: string, size: number): Promise<void> {
  await pipeline(patternStream(size), createWriteStream(path));
}
