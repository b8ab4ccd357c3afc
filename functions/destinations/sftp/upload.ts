import { posix } from 'node:path';
import type { DeliverySource, DestinationAccess, ProbeCheck, ResumeSlot, Uploader } from '../../../shared/destination/index.ts';
import { defaultConnectionSettings, openSftpSession, type ConnectionSettings, type SftpSession } from './client.ts';
import { classifySftpError } from './errors.ts';
import { fileUrl, temporaryPathFor } from './paths.ts';
import { defaultWriteSettings, writeChunks, type WriteSettings } from './pipelined-writes.ts';
import { RemoteFiles } from './remote-files.ts';
import { authorityOf, type SftpDestinationFields } from './schema.ts';

/** What a later attempt needs to continue: the temporary file (and the file it was for). */
export interface SftpResumeState {
  readonly filename: string;
  readonly temporaryPath: string;
  /**
   * The temporary file was complete and being renamed onto the file: should the attempt end before
   * the server's answer, the next one finds the file there rather than sending it again.
   */
  readonly renaming?: boolean;
}

/** The temporary file an attempt writes to, open, and where its writing starts. */
interface OpenTemporary {
  readonly handle: Buffer;
  readonly path: string;
  /** Bytes an earlier attempt already wrote there. */
  readonly offset: number;
}

/**
 * Continues the temporary file an earlier attempt saved, from its size, when it is still there
 * and no larger than the source (complete, when that attempt ended before its rename); otherwise
 * creates it (and the folders it needs). A new upload's temporary path is saved before the file is
 * created, so an attempt that ends in between (a crash, a timeout) leaves no file the next one
 * does not know: it creates the file at that path.
 */
async function openTemporary(files: RemoteFiles, filename: string, source: DeliverySource, resume: ResumeSlot<SftpResumeState>): Promise<OpenTemporary> {
  const earlier = resume.state?.filename === filename ? resume.state.temporaryPath : undefined;
  if (earlier !== undefined) {
    const found = await files.stat(earlier);
    const size = found?.size ?? 0;
    if (found && (source.size === undefined || size <= source.size)) return { handle: await files.open(earlier, 'r+'), path: earlier, offset: size };
    // Larger than the source: not a beginning of this file.
    if (found) await files.remove(earlier);
    return { handle: await files.create(earlier), path: earlier, offset: 0 };
  }
  const path = temporaryPathFor(filename);
  await resume.save({ filename, temporaryPath: path });
  return { handle: await files.create(path), path, offset: 0 };
}

/**
 * Whether an earlier attempt renamed its complete temporary file onto `filename` before it ended
 * (its answer lost, or the attempt cut off): the temporary file is gone and a file of the source's
 * size stands under the name.
 */
async function renamedEarlier(files: RemoteFiles, filename: string, source: DeliverySource, state: SftpResumeState | undefined): Promise<boolean> {
  if (state?.filename !== filename || !state.renaming || source.size === undefined) return false;
  if (await files.stat(state.temporaryPath)) return false;
  return (await files.stat(filename))?.size === source.size;
}

/** How an SFTP uploader connects and writes. */
export interface SftpSettings {
  readonly connection: ConnectionSettings;
  readonly writes: WriteSettings;
}

export const defaultSftpSettings: SftpSettings = { connection: defaultConnectionSettings, writes: defaultWriteSettings };

/** Runs `work` on a connection to the destination's server, closing it after. */
async function withSession<T>(
  access: DestinationAccess<SftpDestinationFields>,
  settings: ConnectionSettings,
  work: (files: RemoteFiles, session: SftpSession) => Promise<T>,
): Promise<T> {
  const { destination, network, signal } = access;
  const session = await openSftpSession(destination, network, signal, settings);
  try {
    return await work(new RemoteFiles(session), session);
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    session.close();
  }
}

/**
 * An SFTP uploader whose writes follow `settings`. The source streams into a hidden temporary
 * file beside the target with many write requests in flight, and is renamed onto the target only
 * when complete; an attempt that breaks leaves the temporary file for the next one to continue
 * from its size.
 */
export function sftpUploaderWith(settings: SftpSettings): Uploader<SftpDestinationFields, SftpResumeState> {
  return {
    async upload({ destination, source, signal, network, resume }) {
      return withSession({ destination, network, signal }, settings.connection, async (files, session) => {
        const { filename } = destination;
        const delivered = await renamedEarlier(files, filename, source, resume.state);
        let rename: Awaited<ReturnType<RemoteFiles['replace']>> | undefined;
        let resumedAt = 0;
        if (!delivered) {
          const temporary = await openTemporary(files, filename, source, resume);
          resumedAt = temporary.offset;
          const stream = await source.stream(temporary.offset > 0 ? { offset: temporary.offset } : undefined);
          const stop = (): void => void stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          signal.addEventListener('abort', stop, { once: true });
          try {
            const writes = { ...settings.writes, writeBytes: Math.min(settings.writes.writeBytes, session.maxWriteBytes) };
            await writeChunks(session, temporary.handle, stream, temporary.offset, writes, (error) => files.failure('write', temporary.path, error));
          } finally {
            signal.removeEventListener('abort', stop);
          }
          await files.close(temporary.handle, temporary.path);
          await resume.save({ filename, temporaryPath: temporary.path, renaming: true });
          rename = await files.replace(temporary.path, filename);
        }
        const path = posix.isAbsolute(filename) ? filename : await files.realPath(filename);
        const notes = [
          ...(destination.host_key === undefined ? [`the server's host key was not checked: pin it with "host_key": "${session.hostKey}"`] : []),
          ...(rename === 'remove-and-rename' ? ['the server has no POSIX rename: the existing file was removed before the new one took its name'] : []),
          ...(delivered ? ['an earlier attempt had renamed the file into place before it ended: it was not sent again'] : []),
        ];
        return {
          url: fileUrl(destination, path),
          details: {
            path,
            host_key: session.hostKey,
            ...(rename === undefined ? {} : { rename }),
            ...(delivered ? { resumed_at: source.size } : resumedAt > 0 ? { resumed_at: resumedAt } : {}),
          },
          ...(notes.length > 0 ? { notes } : {}),
        };
      });
    },
    classify: classifySftpError,
    async discard({ state, ...access }) {
      await withSession(access, settings.connection, (files) => files.remove(state.temporaryPath));
    },
    /**
     * Connects and logs in as a delivery would (host key, credentials), then creates the target's
     * missing folders and a temporary file there, and removes the file.
     */
    async probe({ destination, signal, network }): Promise<ProbeCheck[]> {
      let session: SftpSession;
      try {
        session = await openSftpSession(destination, network, signal, settings.connection);
      } catch (error) {
        return [{ name: 'login', ok: false, detail: classifySftpError(error).message }];
      }
      const pinned = destination.host_key === undefined ? 'not pinned' : 'matches host_key';
      const login = { name: 'login', ok: true, detail: `logged in to ${authorityOf(destination)} as ${destination.user}; host key ${session.hostKey} (${pinned})` };
      const files = new RemoteFiles(session);
      const folder = posix.dirname(destination.filename);
      try {
        const path = temporaryPathFor(destination.filename);
        await files.close(await files.create(path), path);
        await files.remove(path);
        return [login, { name: 'write', ok: true, detail: `may write in '${folder}' (a temporary file was created and removed)` }];
      } catch (error) {
        return [login, { name: 'write', ok: false, detail: classifySftpError(error).message }];
      } finally {
        session.close();
      }
    },
  };
}

/** Delivers to an SFTP server. */
export const sftpUploader = sftpUploaderWith(defaultSftpSettings);
