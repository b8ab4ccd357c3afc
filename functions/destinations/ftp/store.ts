import { FTPError, type Client } from 'basic-ftp';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { TransientError, type DeliverySource, type ResumeSlot } from '../../../shared/destination/index.ts';
import { foldersAbove, temporaryPathBeside } from './address.ts';
import type { FtpConnection } from './connection.ts';
import { during, FtpReplyError } from './reply-error.ts';

/** What a later attempt needs to continue: the temporary file beside the final one. */
export interface FtpResumeState {
  readonly path: string;
  readonly temporaryPath: string;
}

/** How this attempt wrote the file. */
export interface StoredFile {
  /** Bytes of the temporary file an earlier attempt had written, continued from. */
  readonly resumedAt: number;
  /** `STOR`, `APPE` or `REST+STOR`; `none` when an earlier attempt had written it whole. */
  readonly command: 'STOR' | 'APPE' | 'REST+STOR' | 'none';
}

/**
 * The bytes handed to basic-ftp: counted (to compare with what the server says it holds), and
 * ended early rather than broken when the source fails or the attempt must stop, so the server
 * finishes writing and confirms the transfer before the attempt gives up. The next attempt then
 * reads a size that no longer changes under it.
 */
class TransferBody extends Transform {
  public bytes = 0;
  /** Why the transfer was ended early, if it was. */
  public failure: unknown;

  public override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** Ends the transfer after what has passed so far, remembering why. */
  public stop(reason: unknown): void {
    if (this.failure !== undefined || this.writableEnded) return;
    this.failure = reason ?? new Error('the transfer was stopped');
    this.end();
  }
}

function transferBody(stream: Readable, signal: AbortSignal): TransferBody {
  const body = new TransferBody();
  const stop = (reason: unknown): void => {
    stream.unpipe(body);
    stream.destroy();
    body.stop(reason);
  };
  const onAbort = (): void => stop(signal.reason);
  stream.once('error', stop);
  signal.addEventListener('abort', onAbort, { once: true });
  body.once('close', () => signal.removeEventListener('abort', onAbort));
  stream.pipe(body);
  if (signal.aborted) onAbort();
  return body;
}

function isRefusal(error: unknown, ...codes: number[]): error is FTPError {
  return error instanceof FTPError && (codes.length === 0 || codes.includes(error.code));
}

/**
 * Creates the folders above `path`, outermost first. A refusal is normal (the folder exists) and
 * is only returned, to explain a later refusal to store the file there.
 */
async function createFolders(client: Client, path: string): Promise<FtpReplyError | undefined> {
  let refusal: FtpReplyError | undefined;
  for (const folder of foldersAbove(path)) {
    try {
      await client.send(`MKD ${folder}`);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      refusal = new FtpReplyError(`create folder ${folder}`, error);
    }
  }
  return refusal;
}

/**
 * The size of the file at `path`, or undefined when there is none or the server does not tell
 * (500, 502, 504: SIZE not implemented; 550: no such file; a 213 without a number).
 */
export async function storedSize(client: Client, path: string): Promise<number | undefined> {
  try {
    const { message } = await client.send(`SIZE ${path}`);
    const size = /^213\s+(\d+)/.exec(message)?.[1];
    return size === undefined ? undefined : Number(size);
  } catch (error) {
    if (isRefusal(error, 500, 501, 502, 504, 550)) return undefined;
    throw error instanceof FTPError ? new FtpReplyError(`ask the size of ${path}`, error) : error;
  }
}

/** Deletes the file at `path`; one that is already gone is not an error. */
export async function removeFile(client: Client, path: string): Promise<void> {
  try {
    await client.remove(path);
  } catch (error) {
    if (isRefusal(error, 550) && (await storedSize(client, path)) === undefined) return;
    throw error instanceof FTPError ? new FtpReplyError(`delete ${path}`, error) : error;
  }
}

/**
 * Where this attempt starts: the temporary file an earlier attempt saved, at the size the server
 * says it holds (SIZE), or a new temporary file, saved in the resume slot before a byte is sent.
 */
async function startingPoint(
  client: Client,
  path: string,
  source: DeliverySource,
  resume: ResumeSlot<FtpResumeState>,
): Promise<{ temporaryPath: string; offset: number }> {
  const earlier = resume.state;
  if (earlier?.path === path) {
    const size = await storedSize(client, earlier.temporaryPath);
    // A file longer than the source is not what this delivery wrote: it is written again.
    const usable = size !== undefined && (source.size === undefined || size <= source.size);
    return { temporaryPath: earlier.temporaryPath, offset: usable ? size : 0 };
  }
  if (earlier) await removeFile(client, earlier.temporaryPath);
  const temporaryPath = temporaryPathBeside(path);
  await resume.save({ path, temporaryPath });
  return { temporaryPath, offset: 0 };
}

/** RFC 3659: a server that restarts stream-mode STOR at an offset says `REST STREAM` in FEAT. */
function restartsStore(connection: FtpConnection): boolean {
  return /\bSTREAM\b/i.test(connection.features.get('REST') ?? '');
}

/**
 * Writes the source into the temporary file from `offset`: a new file with STOR, a continued one
 * with REST + STOR where the server restarts stores at an offset, else with APPE. The source is
 * read from `offset` on (the service sums the bytes before it for the checksum).
 */
async function writeTemporaryFile(
  connection: FtpConnection,
  temporaryPath: string,
  source: DeliverySource,
  offset: number,
  signal: AbortSignal,
): Promise<{ command: StoredFile['command']; sent: number }> {
  if (offset > 0 && offset === source.size) return { command: 'none', sent: 0 };
  const { client, passive } = connection;
  const body = transferBody(await source.stream(offset > 0 ? { offset } : undefined), signal);
  let command: StoredFile['command'];
  try {
    if (offset === 0) {
      command = 'STOR';
      await during(`store ${temporaryPath}`, () => client.uploadFrom(body, temporaryPath));
    } else if (restartsStore(connection)) {
      command = 'REST+STOR';
      passive.restartAt = offset;
      await during(`continue ${temporaryPath} at byte ${offset} (REST + STOR)`, () => client.uploadFrom(body, temporaryPath));
    } else {
      command = 'APPE';
      await during(`continue ${temporaryPath} at byte ${offset} (APPE)`, () => client.appendFrom(body, temporaryPath));
    }
  } catch (error) {
    throw body.failure ?? error;
  } finally {
    passive.restartAt = undefined;
  }
  if (body.failure !== undefined) throw body.failure;
  return { command, sent: body.bytes };
}

/**
 * Checks with SIZE (where the server answers it) that the temporary file holds every byte sent.
 * A file that does not is deleted, so the next attempt writes it whole.
 */
async function checkSize(client: Client, temporaryPath: string, expected: number): Promise<void> {
  const size = await storedSize(client, temporaryPath);
  if (size === undefined || size === expected) return;
  await removeFile(client, temporaryPath);
  throw new TransientError(`the server holds ${size} of the ${expected} bytes sent to ${temporaryPath}; the next attempt sends the file again`, {
    code: 'IncompleteFile',
  });
}

/**
 * Renames the complete temporary file to its final name. A server that will not rename over an
 * existing file (IIS answers 550 to RNTO) has the old file deleted first: the final name is then
 * briefly empty, never partial.
 */
async function moveIntoPlace(client: Client, temporaryPath: string, path: string): Promise<void> {
  const rename = async (): Promise<void> => {
    await during(`rename ${temporaryPath}`, () => client.send(`RNFR ${temporaryPath}`));
    await client.send(`RNTO ${path}`);
  };
  try {
    await rename();
  } catch (error) {
    const inTheWay = isRefusal(error, 550, 553) && (await storedSize(client, path)) !== undefined;
    if (!inTheWay) throw error instanceof FTPError ? new FtpReplyError(`rename ${temporaryPath} to ${path}`, error) : error;
    await during(`replace ${path}`, () => client.remove(path));
    await during(`rename ${temporaryPath} to ${path}`, rename);
  }
}

/**
 * Delivers `source` to `path`: creates the missing folders, writes (or continues) a temporary file
 * beside the final one, checks its size, and renames it into place, so nothing partial ever stands
 * under the final name. A failure leaves the temporary file, named in the resume slot, for the
 * next attempt to continue.
 */
export async function storeFile(
  connection: FtpConnection,
  path: string,
  source: DeliverySource,
  resume: ResumeSlot<FtpResumeState>,
  signal: AbortSignal,
): Promise<StoredFile> {
  const { client } = connection;
  const folderRefusal = await createFolders(client, path);
  const { temporaryPath, offset } = await startingPoint(client, path, source, resume);
  let written: Awaited<ReturnType<typeof writeTemporaryFile>>;
  try {
    written = await writeTemporaryFile(connection, temporaryPath, source, offset, signal);
  } catch (error) {
    if (folderRefusal && error instanceof FtpReplyError && (error.replyCode === 550 || error.replyCode === 553)) {
      throw new FtpReplyError(`${folderRefusal.message}; then store ${temporaryPath}`, error.cause as FTPError);
    }
    throw error;
  }
  await checkSize(client, temporaryPath, offset + written.sent);
  await moveIntoPlace(client, temporaryPath, path);
  return { resumedAt: offset, command: written.command };
}

/**
 * Writes a few bytes beside `path` under a temporary name and deletes them: what a delivery
 * needs (folders, write, rename aside) without leaving anything.
 */
export async function probeWrite(connection: FtpConnection, path: string): Promise<string> {
  const { client } = connection;
  const folderRefusal = await createFolders(client, path);
  const probePath = temporaryPathBeside(`${path.slice(0, path.lastIndexOf('/') + 1)}upload-destinations-probe`);
  try {
    await during(`store ${probePath}`, () => client.uploadFrom(Readable.from([Buffer.from('probe\n')]), probePath));
  } catch (error) {
    if (folderRefusal && error instanceof FtpReplyError) throw new FtpReplyError(`${folderRefusal.message}; then store ${probePath}`, error.cause as FTPError);
    throw error;
  }
  await removeFile(client, probePath);
  return probePath;
}
