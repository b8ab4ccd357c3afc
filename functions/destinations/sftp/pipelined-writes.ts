import type { SftpSession } from './client.ts';

/** How a stream is written to an open file. */
export interface WriteSettings {
  /** Data in one write request (cut to what the server allows). @default 64 KiB */
  readonly writeBytes: number;
  /** Write requests awaiting their answer at most. @default 64, as OpenSSH's sftp */
  readonly requestsInFlight: number;
}

/**
 * OpenSSH's `sftp` keeps 64 requests in flight (`-R 64`): one at a time would wait a round trip per
 * write. Its 32 KiB writes (`-B 32768`) are doubled here: ssh2, in JavaScript, pays per request,
 * and 64 KiB writes measured about a fifth faster and cheaper on loopback against OpenSSH (larger
 * ones gained little). Servers that announce a smaller limit, or none (ssh2 then assumes 31 KiB
 * for servers other than OpenSSH), get writes of their size. At most 4 MiB are in flight.
 */
export const defaultWriteSettings: WriteSettings = { writeBytes: 64 * 1024, requestsInFlight: 64 };

/**
 * Writes `chunks` to the open file `handle` from `position` on, as OpenSSH's `sftp` does: the
 * bytes are cut into writes of `writeBytes`, each sent at its offset without waiting for the
 * answers of those before it, up to `requestsInFlight` unanswered. Reading waits while the window
 * is full, so memory stays bounded whatever the file's size.
 *
 * Whatever fails (the source, a write, the connection), the writes already sent are waited for
 * before this rejects, so the file is never written to after the failure is reported. A failed
 * write, or a connection lost before a write is sent, rejects with `failureOf` its error. Resolves
 * with the position after the last byte written.
 */
export async function writeChunks(
  session: Pick<SftpSession, 'sftp' | 'lost'>,
  handle: Buffer,
  chunks: AsyncIterable<Buffer>,
  position: number,
  settings: WriteSettings,
  failureOf: (error: Error) => Error,
): Promise<number> {
  const window = new WriteWindow(settings.requestsInFlight, failureOf);
  // ssh2 copies a write's data into its packet when the write is called, so one buffer serves them all.
  const pending = Buffer.allocUnsafe(settings.writeBytes);
  let filled = 0;
  let next = position;
  const send = async (length: number): Promise<void> => {
    await window.room();
    // ssh2 never answers a request sent after the connection ended: it would be waited for forever.
    if (session.lost) throw failureOf(session.lost);
    session.sftp.write(handle, pending, 0, length, next, window.track());
    next += length;
  };
  try {
    for await (const chunk of chunks) {
      for (let taken = 0; taken < chunk.length; ) {
        const copied = chunk.copy(pending, filled, taken);
        filled += copied;
        taken += copied;
        if (filled === pending.length) {
          await send(filled);
          filled = 0;
        }
      }
    }
    if (filled > 0) await send(filled);
  } catch (error) {
    await window.drained().catch(() => undefined);
    throw error;
  }
  await window.drained();
  return next;
}

/** Counts write requests awaiting their answers, and keeps the first failure among them. */
class WriteWindow {
  private inFlight = 0;
  private failure: unknown;
  private waiting: (() => void) | undefined;

  public constructor(
    private readonly limit: number,
    private readonly failureOf: (error: Error) => Error,
  ) {}

  /** Resolves when another request may be sent; rejects with the first failure. */
  public async room(): Promise<void> {
    while (this.inFlight >= this.limit && this.failure === undefined) await this.answer();
    if (this.failure !== undefined) throw this.failure;
  }

  /** A callback for one request sent now. */
  public track(): (error: Error | null | undefined) => void {
    this.inFlight += 1;
    return (error) => {
      this.inFlight -= 1;
      if (error && this.failure === undefined) this.failure = this.failureOf(error);
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.();
    };
  }

  /** Resolves when no request awaits its answer; rejects with the first failure. */
  public async drained(): Promise<void> {
    while (this.inFlight > 0) await this.answer();
    if (this.failure !== undefined) throw this.failure;
  }

  private answer(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
}
