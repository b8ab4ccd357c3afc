import { Readable, Transform, type TransformCallback } from 'node:stream';
import { crc32Base64, RunningCrc32 } from '../delivery/checksum.ts';
import type { DeliverySource, SourcePart, SourceRange, SourceRangeRead, SourceStart } from '../destination/uploader.ts';
import { PermanentError, TransientError, type DeliveryError } from '../errors.ts';
import { BufferPool } from '../streams/buffer-pool.ts';
import { feed } from '../streams/feed.ts';
import { readParts } from '../streams/chunks.ts';
import { changedWhileRead, rangeNotAnswered, type OpenedBody } from './source-opener.ts';
import type { ReadBounds } from './staging-objects.ts';

export interface SourceReaderOptions {
  /** Opens the source again from `offset` (a ranged request), for an upload that continues. */
  readonly reopen: (offset: number, bounds?: ReadBounds) => Promise<OpenedBody>;
  /** The most bytes the destination takes or the operator allows; more fails the read for good. */
  readonly maxBytes?: number;
  /**
   * How long the source may send nothing while the upload waits for it; then the read fails as a
   * stalled source (transient). @default 60
   */
  readonly idleSeconds?: number;
}

/**
 * Watches the bytes of one read of the source: skips (and sums) what lies before the upload's
 * start, sums what passes when asked to, counts, and fails the read when the source turns out
 * shorter or longer than it said, larger than allowed, or stalls, so no truncated or padded file
 * is ever completed and no attempt hangs on a silent source.
 */
class SourceWatch extends Transform {
  public position: number;
  private lastByteAt = Date.now();
  private readonly idleCheck: NodeJS.Timeout;

  public constructor(
    startsAt: number,
    private readonly skipTo: number,
    private readonly size: number | undefined,
    private readonly maxBytes: number | undefined,
    private readonly sum: RunningCrc32,
    private readonly sumPassed: boolean,
    idleSeconds: number,
  ) {
    super();
    this.position = startsAt;
    // A source is stalled only while the upload has taken all it sent and waits for more: an
    // upload that is slow to take the bytes holds them in this stream's buffer.
    this.idleCheck = setInterval(() => {
      if (this.readableLength === 0 && Date.now() - this.lastByteAt > idleSeconds * 1000) {
        this.destroy(new TransientError(`the source sent nothing for ${idleSeconds} s`, { code: 'SourceStalled' }));
      }
    }, Math.min(5000, (idleSeconds * 1000) / 4)).unref();
    this.once('close', () => clearInterval(this.idleCheck));
  }

  public override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.lastByteAt = Date.now();
    const end = this.position + chunk.length;
    const limit = Math.min(this.size ?? Infinity, this.maxBytes ?? Infinity);
    if (end > limit) {
      callback(end > (this.size ?? Infinity) ? tooLong(this.size ?? 0) : tooLarge(this.maxBytes ?? 0));
      return;
    }
    const skipped = Math.max(0, Math.min(chunk.length, this.skipTo - this.position));
    if (skipped > 0) this.sum.extend(chunk.subarray(0, skipped));
    const passed = skipped === 0 ? chunk : chunk.subarray(skipped);
    this.position = end;
    if (passed.length === 0) {
      callback();
      return;
    }
    if (this.sumPassed) this.sum.extend(passed);
    callback(null, passed);
  }

  public override _flush(callback: TransformCallback): void {
    callback(this.size !== undefined && this.position !== this.size ? truncated(this.position, this.size) : undefined);
  }
}

/**
 * The first `length` bytes of `stream`, which is let go once they have passed (or when they are
 * let go themselves); a stream that ends sooner ends them sooner.
 */
function leading(stream: Readable, length: number): Readable {
  const bytes = Readable.from(
    (async function* () {
      let left = length;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (chunk.length >= left) {
          yield chunk.subarray(0, left);
          return;
        }
        left -= chunk.length;
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
  bytes.once('close', () => stream.destroy());
  return bytes;
}

/**
 * `body`, unless it names another version than the one the attempt first opened: a read continued
 * from another version would join two files. The next attempt finds the new one and starts over.
 */
function ofVersion(body: OpenedBody, version: string | undefined): OpenedBody {
  if (body.version === undefined || version === undefined || body.version === version) return body;
  body.stream.destroy();
  throw changedWhileRead('the source');
}

/**
 * `body`, when its bytes start at `offset`, where they were asked for up to `end` (or, for a read
 * to the file's end, at the beginning, from a source that ignores ranges: the reader skips to the
 * offset). Bytes that start elsewhere would leave a gap in the file or repeat part of it.
 */
function startingAt(body: OpenedBody, offset: number, end: number | undefined): OpenedBody {
  if (body.startsAt === offset || (end === undefined && body.startsAt === 0)) return body;
  body.stream.destroy();
  throw rangeNotAnswered('the source', `bytes ${offset}-${end === undefined ? '' : end - 1} as a range (its answer starts at byte ${body.startsAt})`);
}

/**
 * The length of the part that starts at `cut`: as asked, but with a known size cut to what remains,
 * so a small file never costs a whole part (and never 0: an empty file still has its one part).
 */
function partLength(wanted: number, size: number | undefined, cut: number): number {
  return size === undefined ? wanted : Math.max(1, Math.min(wanted, size - cut));
}

// The read's end is the file's (its announced size) or, for a part read by itself, the part's.
function truncated(bytes: number, end: number): DeliveryError {
  return new TransientError(`the source ended at byte ${bytes}, short of byte ${end} where its read was to end`, { code: 'SourceTruncated' });
}

function tooLong(end: number): DeliveryError {
  return new TransientError(`the source sent past byte ${end}, where its read was to end`, { code: 'SourceTooLong' });
}

function tooLarge(maxBytes: number): DeliveryError {
  return new PermanentError(`the source is larger than the ${maxBytes} bytes allowed for this destination`, { code: 'SourceTooLarge' });
}

/**
 * The source of one delivery attempt, as an upload reads it ({@link DeliverySource}): opened once
 * from the beginning, reopened from an offset when the upload continues an earlier attempt whose
 * bytes the destination can vouch for, and otherwise read from the beginning with the bytes before
 * the offset summed but not passed on. Every byte is summed once, so the recorded CRC-32 covers
 * the whole file however many attempts it took.
 */
export class SourceReader implements DeliverySource {
  private sum = new RunningCrc32();
  private watch: SourceWatch | undefined;
  private finished = false;
  private started: number | undefined;
  /** The parts read by themselves, when the upload reads them so: what they have read, and their sums. */
  private ranged: RangedReads | undefined;

  public constructor(
    private readonly first: OpenedBody,
    private readonly options: SourceReaderOptions,
  ) {
    if (options.maxBytes !== undefined && first.size !== undefined && first.size > options.maxBytes) {
      first.stream.destroy();
      throw tooLarge(options.maxBytes);
    }
  }

  public get size(): number | undefined {
    return this.first.size;
  }

  public get contentType(): string | undefined {
    return this.first.contentType;
  }

  public get name(): string {
    return this.first.name;
  }

  /** The source's version (ETag or Last-Modified), when it has one. */
  public get version(): string | undefined {
    return this.first.version;
  }

  /** Bytes of the file read so far, including those an earlier attempt delivered. */
  public get position(): number {
    return this.ranged?.position ?? this.watch?.position ?? 0;
  }

  /** Where the upload of this attempt started in the file: what the destination already had. */
  public get startOffset(): number | undefined {
    return this.started;
  }

  /** The CRC-32 of the whole file, once it has been read to its end. */
  public get checksum(): { readonly algorithm: 'crc32'; readonly value: string; readonly bytes: number } | undefined {
    const sum = this.ranged ? this.ranged.whole() : this.finished ? this.sum : undefined;
    return sum && { algorithm: 'crc32', value: sum.base64, bytes: sum.bytes };
  }

  public async stream(start?: SourceStart): Promise<Readable> {
    return this.open(start, true);
  }

  public async *parts(lengthOf: (index: number) => number, start?: SourceStart): AsyncGenerator<SourcePart> {
    const stream = await this.open(start, false);
    const offsetOf = start?.offset ?? 0;
    let cut = offsetOf;
    const length = (index: number): number => partLength(lengthOf(index), this.size, cut);
    const pool = new BufferPool();
    for await (const bytes of readParts(stream, length, (size) => pool.take(size))) {
      // An empty part stands only for an empty file, never for the end of a continued one.
      if (bytes.length === 0 && offsetOf > 0) continue;
      const offset = cut;
      cut += bytes.length;
      const crc = this.sum.add(bytes);
      yield {
        bytes,
        offset,
        crc32: crc32Base64(crc),
        // Only whole buffers go back; the last, shorter part is a view of one.
        release: () => {
          if (bytes.length === bytes.buffer.byteLength) pool.give(bytes);
        },
      };
    }
  }

  public rangedParts(lengthOf: (index: number) => number, start?: SourceStart): readonly SourceRange[] | undefined {
    const { size } = this;
    const offset = start?.offset ?? 0;
    const reopen = this.options.reopen;
    if (size === undefined || !this.first.ranges || (offset > 0 && start?.crc32 === undefined)) return undefined;
    this.claimRead(offset);
    // The first answer's body is the first part's first read when the parts start where it does
    // (one request fewer); any other read of a part is a ranged request of its own.
    let unread: Readable | undefined = offset === this.first.startsAt ? this.first.stream : undefined;
    if (unread === undefined) this.first.stream.destroy();
    const ranged = new RangedReads(offset === 0 ? new RunningCrc32() : new RunningCrc32(start?.crc32, offset), size);
    this.ranged = ranged;
    const idleSeconds = this.options.idleSeconds ?? 60;
    const version = this.first.version;
    const parts: SourceRange[] = [];
    for (let cut = offset, index = 0; cut < size; index += 1) {
      const partOffset = cut;
      const length = partLength(lengthOf(index), size, cut);
      const end = partOffset + length;
      cut = end;
      parts.push({
        offset: partOffset,
        length,
        open: async (): Promise<SourceRangeRead> => {
          if (partOffset === offset && unread !== undefined) {
            const read = ranged.read(leading(unread, length), partOffset, end, idleSeconds);
            unread = undefined;
            return read;
          }
          // A store that ignores If-Match answers the part of whatever version it now holds.
          const body = startingAt(ofVersion(await reopen(partOffset, { end, version }), version), partOffset, end);
          return ranged.read(body.stream, partOffset, end, idleSeconds);
        },
      });
    }
    return parts;
  }

  /**
   * Reads what the upload did not, summing it, so the checksum covers the whole file (an upload
   * that found the file already complete at the destination reads nothing).
   */
  public async readToEnd(): Promise<void> {
    if (this.finished || this.ranged?.whole()) return;
    if (this.watch || this.ranged) throw new TransientError('the upload ended before it had read the whole source', { code: 'SourceNotRead' });
    const rest = await this.open({ offset: this.size ?? Number.MAX_SAFE_INTEGER }, true);
    for await (const chunk of rest) void chunk;
    // The destination had the whole file: of a size unknown until now, the upload starts at its end.
    this.started = this.sum.bytes;
  }

  /** Lets go of the source's connection. */
  public close(): void {
    this.first.stream.destroy();
    this.watch?.destroy();
    this.ranged?.close();
  }

  /** Marks the attempt's one read as begun at `offset`. */
  private claimRead(offset: number): void {
    if (this.watch || this.ranged) throw new Error('the source is read once per attempt');
    this.started = offset;
  }

  private async open(start: SourceStart | undefined, sumPassed: boolean): Promise<Readable> {
    const offset = start?.offset ?? 0;
    this.claimRead(offset);
    let body = this.first;
    if (offset > 0 && start?.crc32 !== undefined) {
      // The destination vouches for the bytes before `offset`: read from there, if the source allows.
      this.first.stream.destroy();
      // Nothing is left when the destination has every byte (a range from the end is unsatisfiable).
      body =
        this.size !== undefined && offset >= this.size
          ? { ...this.first, stream: Readable.from([]), startsAt: offset }
          : startingAt(ofVersion(await this.options.reopen(offset), this.version), offset, undefined);
      if (body.startsAt === offset) this.sum = new RunningCrc32(start.crc32, offset);
    }
    const watch = new SourceWatch(body.startsAt, offset, this.size, this.options.maxBytes, this.sum, sumPassed, this.options.idleSeconds ?? 60);
    this.watch = watch;
    watch.once('end', () => {
      this.finished = true;
    });
    return feed(body.stream, watch);
  }
}

/**
 * The reads of parts read by themselves: each sums its own bytes, and the whole file's CRC-32 is
 * built from the parts' as soon as those from the start are complete, whatever order they end in.
 */
class RangedReads {
  /** CRC-32 and length of each part read to its end, by offset, until the whole reaches it. */
  private readonly done = new Map<number, { crc: number; length: number }>();
  /** Reads under way, and where each began. */
  private readonly reading = new Map<SourceWatch, number>();

  public constructor(
    /** The whole file's sum so far: the prefix the destination already had, then each part in order. */
    private readonly sum: RunningCrc32,
    private readonly size: number,
  ) {}

  /** Bytes of the file read so far (the prefix included). */
  public get position(): number {
    let position = this.sum.bytes;
    for (const { length } of this.done.values()) position += length;
    for (const [watch, offset] of this.reading) position += watch.position - offset;
    return Math.min(this.size, position);
  }

  /** The whole file's sum, once every part has been read. */
  public whole(): RunningCrc32 | undefined {
    return this.sum.bytes === this.size ? this.sum : undefined;
  }

  public read(stream: Readable, offset: number, end: number, idleSeconds: number): SourceRangeRead {
    const partSum = new RunningCrc32();
    const watch = new SourceWatch(offset, offset, end, undefined, partSum, true, idleSeconds);
    this.reading.set(watch, offset);
    let ended = false;
    watch.once('end', () => {
      ended = true;
      this.reading.delete(watch);
      this.complete(offset, partSum.crc, end - offset);
    });
    watch.once('close', () => this.reading.delete(watch));
    feed(stream, watch);
    return { stream: watch, crc32: () => (ended ? partSum.base64 : undefined) };
  }

  public close(): void {
    for (const watch of this.reading.keys()) watch.destroy();
  }

  private complete(offset: number, crc: number, length: number): void {
    if (offset < this.sum.bytes) return;
    this.done.set(offset, { crc, length });
    for (let next = this.done.get(this.sum.bytes); next !== undefined; next = this.done.get(this.sum.bytes)) {
      this.done.delete(this.sum.bytes);
      this.sum.append(next.crc, next.length);
    }
  }
}
