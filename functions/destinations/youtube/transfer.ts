import { setTimeout as sleep } from 'node:timers/promises';
import { crc32Combine, TransientError, WaitError, type DeliverySource, type SourcePart } from '../../../shared/destination/index.ts';
import { classifyYouTubeError } from './errors.ts';
import { chunkGranularity, type ResumableSession, type SessionPosition, type VideoResource } from './resumable.ts';

/** How the file is cut and how hard one attempt tries before leaving the rest to the next. */
export interface TransferSettings {
  /** Bytes per chunk, a multiple of 256 KiB; two chunks are in memory (one sent, the next read). @default 16 MiB */
  readonly chunkBytes: number;
  /** Times one chunk is sent again within an attempt after a dropped connection or a 5xx. @default 3 */
  readonly chunkRetries: number;
  /** First pause before sending a chunk again; it doubles each time. @default 1000 */
  readonly retryBaseMs: number;
  /** Bytes confirmed between two checkpoints saved for a later attempt. @default 64 MiB */
  readonly checkpointBytes: number;
}

export const defaultTransferSettings: TransferSettings = { chunkBytes: 16 * 1024 * 1024, chunkRetries: 3, retryBaseMs: 1000, checkpointBytes: 64 * 1024 * 1024 };

/**
 * The first `offset` bytes of the file and their CRC-32, as YouTube confirmed them: a later attempt
 * reads the source from there (a ranged request) instead of reading it all again.
 */
export interface Checkpoint {
  readonly offset: number;
  readonly crc32: number;
}

/** Where a transfer begins: what the session holds, and the checkpoint at or before it to read the source from. */
export interface TransferStart {
  readonly committed: number;
  readonly checkpoint: Checkpoint;
}

/** What the transfer tells the upload as it goes, for a later attempt. */
export interface TransferEvents {
  /** Before the byte that may complete the video is sent: a video may exist from then on. */
  beforeLastChunk(): Promise<void>;
  /** Every `checkpointBytes` confirmed. */
  checkpoint(checkpoint: Checkpoint): Promise<void>;
}

/** A failure the same attempt may get past by asking the session where it stands and sending again. */
function worthRetrying(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return false;
  const classified = classifyYouTubeError(error);
  return classified instanceof TransientError && !(classified instanceof WaitError) && classified.code !== 'SessionExpired';
}

/**
 * Sends one chunk from byte `from` on until the session holds all of it, or completes. A dropped
 * connection or a 5xx is followed by a status query, and only what the session lacks is sent again
 * (from the chunk still in memory); a lost answer to the last chunk is so found to have completed
 * the video.
 */
async function deliverPart(session: ResumableSession, part: SourcePart, start: number, total: number | undefined, settings: TransferSettings, signal: AbortSignal): Promise<SessionPosition> {
  const end = part.offset + part.bytes.length;
  let from = start;
  let setbacks = 0;
  for (;;) {
    let position: SessionPosition;
    try {
      position = await session.send(part.bytes.subarray(from - part.offset), from, total);
    } catch (error) {
      setbacks += 1;
      if (setbacks > settings.chunkRetries || !worthRetrying(error, signal)) throw error;
      await sleep(settings.retryBaseMs * 2 ** (setbacks - 1), undefined, { signal });
      position = await session.query(total);
    }
    if (position.kind === 'complete' || position.committed >= end) return position;
    if (position.committed < part.offset) {
      throw new TransientError(`YouTube holds ${position.committed} bytes, fewer than the ${part.offset} it had confirmed; the next attempt continues from there`, {
        code: 'UploadRegressed',
      });
    }
    if (position.committed <= from && (setbacks += 1) > settings.chunkRetries) {
      throw new TransientError(`YouTube keeps refusing the bytes from ${from} on`, { code: 'NoProgress' });
    }
    from = position.committed;
  }
}

const crcOf = (part: SourcePart): number => Buffer.from(part.crc32, 'base64').readUInt32BE(0);

/**
 * Streams the source into a resumable session, chunk by chunk, reading the next chunk while the
 * current one is sent. The source is read from the checkpoint (the bytes after it only, when the
 * source allows a ranged request) and what the session already holds is not sent again. Answers
 * the video once the session has every byte and the source has ended.
 */
export async function transferSource(
  session: ResumableSession,
  source: DeliverySource,
  start: TransferStart,
  settings: TransferSettings,
  signal: AbortSignal,
  events: TransferEvents,
): Promise<VideoResource> {
  if (settings.chunkBytes % chunkGranularity !== 0) throw new Error(`chunkBytes must be a multiple of ${chunkGranularity}`);
  const size = source.size;
  const { checkpoint } = start;
  const parts = source.parts(() => settings.chunkBytes, checkpoint.offset > 0 ? checkpoint : undefined);
  let video: VideoResource | undefined;
  let confirmed = checkpoint;
  let saved = checkpoint.offset;
  let pending = parts.next();
  try {
    for (let next = await pending; !next.done; next = await pending) {
      const part = next.value;
      pending = parts.next();
      // Left unawaited when a send fails: the source is closed after the attempt, which ends the read.
      pending.catch(() => undefined);
      if (video) throw new TransientError(`YouTube completed the video at ${confirmed.offset} bytes, before the file's end`, { code: 'CompletedEarly' });
      const end = part.offset + part.bytes.length;
      const isLast = size === undefined ? part.bytes.length < settings.chunkBytes : end === size;
      try {
        // Bytes the session already holds (read again from the checkpoint) are only summed.
        if (end > start.committed || part.bytes.length === 0) {
          if (isLast) await events.beforeLastChunk();
          // An empty last part (an empty file) has no byte range: the status query with the total completes it.
          const position =
            part.bytes.length === 0 ? await session.query(end) : await deliverPart(session, part, Math.max(part.offset, start.committed), isLast ? end : size, settings, signal);
          if (position.kind === 'complete') video = position.video;
        }
        confirmed = { offset: end, crc32: crc32Combine(confirmed.crc32, crcOf(part), part.bytes.length) };
      } finally {
        part.release();
      }
      if (!video && confirmed.offset - saved >= settings.checkpointBytes) {
        await events.checkpoint(confirmed);
        saved = confirmed.offset;
      }
    }
  } finally {
    void parts.return(undefined).catch(() => undefined);
  }
  if (video) return video;
  // A file of unknown size that ended on a chunk's end: its total is known only now.
  await events.beforeLastChunk();
  const position = await session.query(confirmed.offset);
  if (position.kind === 'complete') return position.video;
  throw new TransientError(`YouTube holds ${position.committed} of the file's ${confirmed.offset} bytes after the last chunk`, { code: 'UploadIncomplete' });
}
