import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { OpenedSource } from '../../shared/delivery/types.ts';

/** Deterministic, incompressible-looking bytes: byte i of the stream depends on i and the seed. */
export function patternBytes(length: number, seed = 1): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A source that streams `bytes` in 64 KiB chunks, as a network source would. */
export function sourceOf(bytes: Buffer, overrides: Partial<OpenedSource> = {}): OpenedSource {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < bytes.length; offset += 65_536) yield bytes.subarray(offset, offset + 65_536);
  }
  return { stream: Readable.from(chunks()), size: bytes.length, contentType: undefined, name: 'source.bin', ...overrides };
}

/** A source that sends `bytesBeforeFailure` bytes of a larger file, then breaks like a dropped connection. */
export function failingSource(size: number, bytesBeforeFailure: number): OpenedSource {
  async function* chunks(): AsyncGenerator<Buffer> {
    const chunk = Buffer.alloc(65_536, 7);
    for (let sent = 0; sent < bytesBeforeFailure; sent += chunk.length) yield chunk;
    throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  }
  return { stream: Readable.from(chunks()), size, contentType: undefined, name: 'broken.bin' };
}
