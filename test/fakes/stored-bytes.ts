import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { ConnectionBroken } from './exchange.ts';

/** Bytes `start` (inclusive) to `end` (exclusive) of an upload. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** What one request body delivered into a {@link StoredBytes}. */
export interface Receipt {
  /** Body bytes that arrived, skipped and over-limit ones included. */
  readonly received: number;
  /** Bytes written to the file. */
  readonly written: number;
  /** True when the body went past `limit`: the extra bytes were read and dropped. */
  readonly overLimit: boolean;
  /** True when the connection broke before the body ended; no answer can be sent. */
  readonly broken: boolean;
}

export interface ReceiveOptions {
  /** Leading body bytes to drop (already stored: a resend that overlaps). @default 0 */
  readonly skip?: number;
  /** Most bytes to write; the rest are read and dropped. @default no limit */
  readonly limit?: number;
  /** Sees every written chunk, e.g. to hash the request's bytes. */
  readonly onWritten?: (chunk: Buffer) => void;
}

/**
 * The bytes of one upload (a session, then the stored file) in a file on disk, with what tests
 * inspect: the byte ranges accepted, in order, and how many bytes were received in all.
 */
export class StoredBytes {
  #path: string;
  readonly #accepted: ByteRange[] = [];
  #bytesReceived = 0;

  private constructor(path: string) {
    this.#path = path;
  }

  /** An empty file at `path`. */
  static async create(path: string): Promise<StoredBytes> {
    await writeFile(path, '');
    return new StoredBytes(path);
  }

  /** Where the bytes are on disk; it changes when the upload becomes a stored file. */
  get path(): string {
    return this.#path;
  }

  /** Every range accepted, in the order accepted. Overlaps here mean a byte range was accepted twice. */
  get acceptedRanges(): readonly ByteRange[] {
    return this.#accepted;
  }

  /** Every body byte that reached this upload, resent and dropped bytes included. */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** Bytes accepted in all (overlapping ranges counted twice). */
  get bytesAccepted(): number {
    return this.#accepted.reduce((sum, range) => sum + range.end - range.start, 0);
  }

  /** Length of the accepted bytes that run without a gap from byte 0. */
  get contiguousLength(): number {
    let end = 0;
    for (const range of [...this.#accepted].sort((a, b) => a.start - b.start)) {
      if (range.start > end) break;
      end = Math.max(end, range.end);
    }
    return end;
  }

  /**
   * Streams `body` into the file from `position`, one chunk at a time, so memory stays flat
   * whatever the size. Nothing is accepted yet: the caller decides what to keep with
   * {@link accept} and {@link truncate}, by the provider's rules.
   */
  async receive(body: AsyncIterable<Buffer>, position: number, options: ReceiveOptions = {}): Promise<Receipt> {
    let toSkip = options.skip ?? 0;
    let room = options.limit ?? Number.POSITIVE_INFINITY;
    let received = 0;
    let written = 0;
    let overLimit = false;
    let broken = false;
    const file = await open(this.#path, 'r+');
    try {
      for await (let chunk of body) {
        received += chunk.length;
        if (toSkip > 0) {
          const skipped = Math.min(toSkip, chunk.length);
          toSkip -= skipped;
          chunk = chunk.subarray(skipped);
        }
        if (chunk.length > room) {
          overLimit = true;
          chunk = chunk.subarray(0, room);
        }
        if (chunk.length === 0) continue;
        await file.write(chunk, 0, chunk.length, position + written);
        options.onWritten?.(chunk);
        written += chunk.length;
        room -= chunk.length;
      }
    } catch (error) {
      if (!(error instanceof ConnectionBroken)) throw error;
      broken = true;
    } finally {
      await file.close();
      this.#bytesReceived += received;
    }
    return { received, written, overLimit, broken };
  }

  /** Records `[start, end)` as accepted; an empty range records nothing. */
  accept(start: number, end: number): void {
    if (end > start) this.#accepted.push({ start, end });
  }

  /** Cuts the file to `length` bytes, dropping what was written past it and not kept. */
  async truncate(length: number): Promise<void> {
    await truncate(this.#path, length);
  }

  /** Moves the bytes to `path`, when an upload becomes a stored file; no copy is made. */
  async moveTo(path: string): Promise<void> {
    await rename(this.#path, path);
    this.#path = path;
  }

  /** The stored bytes, read back whole; for tests with small uploads. */
  async read(): Promise<Buffer> {
    return readFile(this.#path);
  }

  /** SHA-256 of the stored bytes, hex, read from disk as a stream. */
  async sha256(): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(this.#path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }
}
