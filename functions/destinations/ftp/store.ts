import { FTPError, type Client } from 'basic-ftp';
import { Readable } from 'node:stream';
import { TransientError, type DeliverySource, type ResumeSlot } from '../../../shared/destination/index.ts';
import { foldersAbove, temporaryPathBeside } from './address.ts';
import type { FtpConnection } from './connection.ts';
import { classifyFtpError } from './errors.ts';
import { during, FtpReplyError } from './reply-error.ts';
import { TransferBody } from './transfer-body.ts';

/** What a later attempt needs to continue: the temporary file beside the final one. */
export interface FtpResumeState {
  readonly path: string;
  readonly temporaryPath: string;
  /**
   * The temporary file was complete and being renamed into place: should the attempt end before
   * the server's answer, the next one finds the file there rather than sending it again.
   */
  readonly renaming?: boolean;
}

/** The commands that write a file: a new one, or one continued at an offset. */
type WriteCommand = 'STOR' | 'APPE' | 'REST+STOR';

/** How this attempt wrote the file. */
export interface StoredFile {
  /** Bytes of the temporary file an earlier attempt had written, continued from. */
  readonly resumedAt: number;
  /** The command that wrote this attempt's bytes; `none` when an earlier attempt had written them all. */
  readonly command: WriteCommand | 'none';
  /** The server's refusal to continue the earlier attempt's file, when it was sent whole instead. */
  readonly continuationRefused?: string;
  /** An earlier attempt had renamed the file into place before it ended (its answer lost): nothing was sent. */
  readonly renamedEarlier?: boolean;
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
async function storedSize(client: Client, path: string): Promise<number | undefined> {
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
 * Whether an earlier attempt renamed its complete temporary file into place before it ended (its
 * answer lost, or the attempt cut off): the temporary file is gone and a file of the source's size
 * stands under the name.
 */
async function renamedEarlier(client: Client, path: string, source: DeliverySource, state: FtpResumeState | undefined): Promise<boolean> {
  if (state?.path !== path || state.renaming !== true || source.size === undefined) return false;
  if ((await storedSize(client, state.temporaryPath)) !== undefined) return false;
  return (await storedSize(client, path)) === source.size;
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
  // Left by an attempt for another path: removed if the server lets us, never in the way.
  if (earlier) await removeFile(client, earlier.temporaryPath).catch((error: unknown) => {
    if (!(error instanceof FtpReplyError)) throw error;
  });
  const temporaryPath = temporaryPathBeside(path);
  await resume.save({ path, temporaryPath });
  return { temporaryPath, offset: 0 };
}

/** RFC 3659: a server that restarts stream-mode STOR at an offset says `REST STREAM` in FEAT. */
function restartsStore(connection: FtpConnection): boolean {
  return /\bSTREAM\b/i.test(connection.features.get('REST') ?? '');
}

/** Writes `body` into the temporary file with `command` (at `offset` for a continued file). */
async function transfer(connection: FtpConnection, command: WriteCommand, temporaryPath: string, body: Readable, offset: number): Promise<void> {
  const { client, passive } = connection;
  try {
    if (command === 'STOR') {
      await during(`store ${temporaryPath}`, () => client.uploadFrom(body, temporaryPath));
    } else if (command === 'REST+STOR') {
      passive.restartAt = offset;
      await during(`continue ${temporaryPath} at byte ${offset} (REST + STOR)`, () => client.uploadFrom(body, temporaryPath));
    } else {
      await during(`continue ${temporaryPath} at byte ${offset} (APPE)`, () => client.appendFrom(body, temporaryPath));
    }
  } finally {
    passive.restartAt = undefined;
  }
}

interface WrittenFile {
  readonly command: StoredFile['command'];
  /** Where this attempt's bytes start in the file. */
  readonly from: number;
  readonly sent: number;
  readonly continuationRefused?: string;
}

/**
 * A refusal that says "not now" rather than "not this command": a data connection that would not
 * open, a busy file or server. Another command would meet it too, and STOR would first truncate
 * what the earlier attempt kept; the next attempt continues the file instead. 451 is not one here:
 * ProFTPD answers it to APPE and REST when it does not allow continuing (AllowStoreRestart off).
 */
function refusedForNow(refusal: FtpReplyError): boolean {
  return refusal.replyCode !== 451 && classifyFtpError(refusal).retryable;
}

/**
 * Runs one transfer of the source from `from`. A refusal of the command itself before the source
 * was opened is returned, not thrown, so that another command may be tried.
 */
async function tryTransfer(
  connection: FtpConnection,
  command: WriteCommand,
  temporaryPath: string,
  source: DeliverySource,
  from: number,
  signal: AbortSignal,
): Promise<WrittenFile | FtpReplyError> {
  const body = new TransferBody(() => source.stream(from > 0 ? { offset: from } : undefined), signal);
  try {
    await transfer(connection, command, temporaryPath, body, from);
  } catch (error) {
    body.destroy();
    if (!body.opened && error instanceof FtpReplyError && !refusedForNow(error)) return error;
    throw body.failure ?? error;
  }
  if (body.failure !== undefined) throw body.failure;
  return { command, from, sent: body.bytes };
}

/**
 * Writes the source into the temporary file: a new file with STOR; a continued one with REST +
 * STOR where the server announces it, else APPE, reading the source from `offset` on (the service
 * sums the bytes before it for the checksum). A server that refuses to continue (ProFTPD without
 * AllowStoreRestart) is sent the file whole instead; one that refuses only for now fails the attempt.
 */
async function writeTemporaryFile(
  connection: FtpConnection,
  temporaryPath: string,
  source: DeliverySource,
  offset: number,
  signal: AbortSignal,
): Promise<WrittenFile> {
  if (offset > 0 && offset === source.size) return { command: 'none', from: offset, sent: 0 };
  if (signal.aborted) throw signal.reason;
  let refusal: FtpReplyError | undefined;
  if (offset > 0) {
    for (const command of restartsStore(connection) ? (['REST+STOR', 'APPE'] as const) : (['APPE'] as const)) {
      const written = await tryTransfer(connection, command, temporaryPath, source, offset, signal);
      if (!(written instanceof FtpReplyError)) return written;
      refusal = written;
    }
  }
  const written = await tryTransfer(connection, 'STOR', temporaryPath, source, 0, signal);
  if (written instanceof FtpReplyError) throw written;
  return refusal ? { ...written, continuationRefused: refusal.message } : written;
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
 * next attempt to continue. The rename is noted before it is asked for, so an attempt that ends
 * before its answer leaves the next one to find the file in place rather than send it again.
 */
export async function storeFile(
  connection: FtpConnection,
  path: string,
  source: DeliverySource,
  resume: ResumeSlot<FtpResumeState>,
  signal: AbortSignal,
): Promise<StoredFile> {
  const { client } = connection;
  if (await renamedEarlier(client, path, source, resume.state)) return { resumedAt: source.size ?? 0, command: 'none', renamedEarlier: true };
  const folderRefusal = await createFolders(client, path);
  const { temporaryPath, offset } = await startingPoint(client, path, source, resume);
  let written: WrittenFile;
  try {
    written = await writeTemporaryFile(connection, temporaryPath, source, offset, signal);
  } catch (error) {
    if (folderRefusal && error instanceof FtpReplyError && (error.replyCode === 550 || error.replyCode === 553)) {
      throw new FtpReplyError(`${folderRefusal.message}; then store ${temporaryPath}`, error.cause as FTPError);
    }
    throw error;
  }
  await checkSize(client, temporaryPath, written.from + written.sent);
  await resume.save({ path, temporaryPath, renaming: true });
  await moveIntoPlace(client, temporaryPath, path);
  return {
    resumedAt: written.from,
    command: written.command,
    ...(written.continuationRefused === undefined ? {} : { continuationRefused: written.continuationRefused }),
  };
}

/**
 * Writes a few bytes beside `path` under a temporary name and deletes them: what a delivery
 * needs (folders, write, rename aside) without leaving anything.
 */
export async function probeWrite(connection: FtpConnection, path: string): Promise<string> {
  const { client } = connection;
  const probePath = temporaryPathBeside(`${path.slice(0, path.lastIndexOf('/') + 1)}upload-destinations-probe`);
  const folderRefusal = await createFolders(client, probePath);
  try {
    await during(`store ${probePath}`, () => client.uploadFrom(Readable.from([Buffer.from('probe\n')]), probePath));
  } catch (error) {
    if (folderRefusal && error instanceof FtpReplyError) throw new FtpReplyError(`${folderRefusal.message}; then store ${probePath}`, error.cause as FTPError);
    throw error;
  }
  await removeFile(client, probePath);
  return probePath;
}
