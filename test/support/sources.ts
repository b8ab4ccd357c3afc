import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ResumeSlot, StoredCredentials, UploadContext } from '../../shared/destination/uploader.ts';
import type { OutboundNetwork } from '../../shared/net/outbound-network.ts';
import { SourceReader } from '../../shared/sources/delivery-source.ts';
import type { OpenedBody } from '../../shared/sources/source-opener.ts';
import { localNetwork } from './network.ts';

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

/** What a test source is beyond its bytes. */
export interface SourceOptions {
  readonly name?: string;
  readonly size?: number | undefined;
  readonly contentType?: string;
  /** Answer ranged reopens from the start, as a server that ignores `Range` does. */
  readonly ignoresRanges?: boolean;
  /** The stream breaks like a dropped connection after this many bytes of the file. */
  readonly failsAt?: number;
  /** Counts the bytes each open hands out (offset → bytes), to check what was read again. */
  readonly reads?: number[];
  /** Promise reads of bounded ranges of this version (as an object of a bucket does), so parts can be read by themselves. */
  readonly ranges?: boolean;
  /** Told of each read the source opens (the first and every reopen), to check that it is let go. */
  readonly opened?: (offset: number, stream: Readable) => void;
}

function body(bytes: Buffer, from: number, options: SourceOptions, end = bytes.length): OpenedBody {
  async function* chunks(): AsyncGenerator<Buffer> {
    // 64 KiB chunks, as a network source would send them.
    for (let offset = from; offset < end; offset += 65_536) {
      if (options.failsAt !== undefined && offset >= options.failsAt) {
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      const chunk = bytes.subarray(offset, Math.min(offset + 65_536, end));
      options.reads?.push(chunk.length);
      yield chunk;
    }
  }
  const stream = Readable.from(chunks());
  options.opened?.(from, stream);
  return {
    stream,
    startsAt: from,
    size: 'size' in options ? options.size : bytes.length,
    contentType: options.contentType,
    name: options.name ?? 'source.bin',
    version: `"${sha256(bytes).slice(0, 16)}"`,
    ranges: options.ranges ?? false,
  };
}

/** A source that streams `bytes`, and opens again from an offset (a ranged request) when asked. */
export function sourceOf(bytes: Buffer, options: SourceOptions = {}): SourceReader {
  return new SourceReader(body(bytes, 0, options), {
    reopen: async (offset, bounds) => (options.ignoresRanges ? body(bytes, 0, options) : body(bytes, offset, options, bounds?.end)),
  });
}

/** A source that sends `bytesBeforeFailure` bytes of a larger file, then breaks like a dropped connection. */
export function failingSource(size: number, bytesBeforeFailure: number): SourceReader {
  return sourceOf(patternBytes(size, 9), { failsAt: bytesBeforeFailure, name: 'broken.bin' });
}

/** A resume slot kept in memory across attempts, as the job record keeps it. */
export class MemoryResume<State> implements ResumeSlot<State> {
  public state: State | undefined;
  public saves = 0;
  /** Set it before an attempt that follows another, as the runner does from the delivery's claim. */
  public earlierAttemptsSince: Date | undefined;

  public async save(state: State): Promise<void> {
    this.state = state;
    this.saves += 1;
  }
}

/** The context of one upload attempt in a test: no stored credentials and no application secret unless given. */
export function uploadContext<Destination, State = never>(
  destination: Destination,
  source: SourceReader,
  options: {
    resume?: ResumeSlot<State>;
    signal?: AbortSignal;
    network?: OutboundNetwork;
    credentials?: StoredCredentials;
    application?: Readonly<Record<string, string>>;
    deliveryKey?: string;
  } = {},
): UploadContext<Destination, State> & { source: SourceReader } {
  return {
    destination,
    source,
    signal: options.signal ?? new AbortController().signal,
    network: options.network ?? localNetwork,
    resume: options.resume ?? new MemoryResume<State>(),
    credentials: options.credentials ?? {
      reference: undefined,
      read: async (reference) => {
        throw new Error(`no stored credentials '${reference}' in this test`);
      },
      update: async (reference) => {
        throw new Error(`no stored credentials '${reference}' in this test`);
      },
    },
    application: options.application,
    ...(options.deliveryKey === undefined ? {} : { deliveryKey: options.deliveryKey }),
  };
}
