import { FTPError } from 'basic-ftp';

/** A server's refusal (a 4xx or 5xx reply) of one step of a delivery, named so a user knows which. */
export class FtpReplyError extends Error {
  /** The FTP reply code, e.g. 550. */
  public readonly replyCode: number;
  /** The server's reply line(s), e.g. `550 Permission denied`. */
  public readonly reply: string;

  public constructor(
    public readonly step: string,
    refusal: FTPError,
    hidden: readonly string[] = [],
  ) {
    const reply = hidden.filter((value) => value.length >= 4).reduce((text, value) => text.replaceAll(value, '***'), refusal.message.trim());
    super(`${step}: ${reply}`, { cause: refusal });
    this.name = 'FtpReplyError';
    this.replyCode = refusal.code;
    this.reply = reply;
  }
}

/**
 * Runs one step of a delivery, naming it in the server's refusal. `hidden` values (a password a
 * server might echo) are masked in the message.
 *
 * @example
 * ```ts
 * await during('create folder /videos', () => client.send('MKD /videos'));
 * ```
 */
export async function during<T>(step: string, action: () => Promise<T>, hidden: readonly string[] = []): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw error instanceof FTPError ? new FtpReplyError(step, error, hidden) : error;
  }
}
