import type { Readable } from 'node:stream';

/**
 * Reads a stream in pieces of exact lengths, as a chunked upload whose server names each chunk's
 * size needs: a chunk is read only when it is asked for, so memory holds one chunk at a time.
 */
export class ByteReader {
  readonly #chunks: AsyncIterator<Buffer>;
  #pending: Buffer = Buffer.alloc(0);
  #position: number;

  /** @param position - the offset in the file of the stream's first byte */
  public constructor(stream: Readable, position: number) {
    this.#chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    this.#position = position;
  }

  /** The offset in the file of the next byte to be read. */
  public get position(): number {
    return this.#position;
  }

  /**
   * The next `length` bytes (fewer only when the stream ends first), in `into` when given (a buffer
   * the caller reuses from chunk to chunk), else in a new buffer.
   */
  public async read(length: number, into?: Buffer): Promise<Buffer> {
    const bytes = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      if (this.#pending.length === 0) {
        const next = await this.#chunks.next();
        if (next.done) break;
        this.#pending = next.value;
      }
      const taken = this.#pending.copy(bytes, filled, 0, Math.min(this.#pending.length, length - filled));
      this.#pending = this.#pending.subarray(taken);
      filled += taken;
    }
    this.#position += filled;
    return filled === length ? bytes : bytes.subarray(0, filled);
  }

  /** Passes over `length` bytes without keeping them. */
  public async skip(length: number): Promise<void> {
    let left = length;
    while (left > 0) {
      if (this.#pending.length === 0) {
        const next = await this.#chunks.next();
        if (next.done) break;
        this.#pending = next.value;
      }
      const skipped = Math.min(this.#pending.length, left);
      this.#pending = this.#pending.subarray(skipped);
      left -= skipped;
      this.#position += skipped;
    }
  }

  /** Reads on to the stream's end (where the source checks its length), expecting no more bytes. */
  public async finish(): Promise<void> {
    for (let next = await this.#chunks.next(); !next.done; next = await this.#chunks.next()) {
      this.#position += next.value.length;
    }
  }
}
