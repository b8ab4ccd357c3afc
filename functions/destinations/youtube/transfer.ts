import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError, WaitError, type DeliverySource, type SourcePart } from '../../../shared/destination/index.ts';
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
}

export const defaultTransferSettings: TransferSettings = { chunkBytes: 16 * 1024 * 1024, chunkRetries: 3, retryBaseMs: 1000 };

/** A failure the same attempt may get past by asking the session where it stands and sending again. */
function worthRetrying(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return false;
  const classified = classifyYouTubeError(error);
  return classified instanceof TransientError && !(classified instanceof WaitError) && classified.code !== 'SessionExpired';
}

/**
 * Sends one chunk until the session holds all of it, or completes. A dropped connection or a 5xx
 * is followed by a status query, and only what the session lacks is sent again (from the chunk
 * still in memory); a lost answer to the last chunk is so found to have completed the video.
 */
async function deliverPart(session: ResumableSession, part: SourcePart, total: number | undefined, settings: TransferSettings, signal: AbortSignal): Promise<SessionPosition> {
  const end = part.offset + part.bytes.length;
  let from = part.offset;
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

/**
 * Streams the source into a resumable session from byte `from` (what the session already holds),
 * chunk by chunk, reading the next chunk while the current one is sent. `beforeLastChunk` runs
 * before the byte that may complete the video is sent, so a later attempt knows a video may exist.
 * Answers the video once the session has every byte and the source has ended.
 */
export async function transferSource(
  session: ResumableSession,
  source: DeliverySource,
  from: number,
  settings: TransferSettings,
  signal: AbortSignal,
  beforeLastChunk: () => Promise<void>,
): Promise<VideoResource> {
  if (settings.chunkBytes % chunkGranularity !== 0) throw new Error(`chunkBytes must be a multiple of ${chunkGranularity}`);
  const size = source.size;
  const parts = source.parts(() => settings.chunkBytes, from > 0 ? { offset: from } : undefined);
  let video: VideoResource | undefined;
  let sent = from;
  let pending = parts.next();
  try {
    for (let next = await pending; !next.done; next = await pending) {
      const part = next.value;
      pending = parts.next();
      // Left unawaited when a send fails: the source is closed after the attempt, which ends the read.
      pending.catch(() => undefined);
      if (video) throw new TransientError(`YouTube completed the video at ${sent} bytes, before the file's end`, { code: 'CompletedEarly' });
      const end = part.offset + part.bytes.length;
      const isLast = size === undefined ? part.bytes.length < settings.chunkBytes : end === size;
      try {
        if (isLast) await beforeLastChunk();
        // An empty last part (an empty file) has no byte range: the status query with the total completes it.
        const position = part.bytes.length === 0 ? await session.query(end) : await deliverPart(session, part, isLast ? end : size, settings, signal);
        if (position.kind === 'complete') video = position.video;
      } finally {
        part.release();
      }
      sent = end;
    }
  } finally {
    void parts.return(undefined).catch(() => undefined);
  }
  if (video) return video;
  // A file of unknown size that ended on a chunk's end: its total is known only now.
  await beforeLastChunk();
  const position = await session.query(sent);
  if (position.kind === 'complete') return position.video;
  throw new TransientError(`YouTube holds ${position.committed} of the file's ${sent} bytes after the last chunk`, { code: 'UploadIncomplete' });
}
