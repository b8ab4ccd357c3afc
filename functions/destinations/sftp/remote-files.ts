import { posix } from 'node:path';
import type { SFTPWrapper, Stats } from 'ssh2';
import { ConnectionLostError, RemoteFileError, sftpStatus, statusOf } from './errors.ts';
import type { SftpSession } from './client.ts';

/**
 * The SFTP requests a delivery makes, as promises whose failures name the request and the path
 * ({@link RemoteFileError}), or say that the connection was lost.
 */
export class RemoteFiles {
  private readonly sftp: SFTPWrapper;

  public constructor(private readonly session: SftpSession) {
    this.sftp = session.sftp;
  }

  /** The file's attributes, or undefined when there is no such file. */
  public async stat(path: string): Promise<Stats | undefined> {
    try {
      return await this.request('stat', path, (done) => this.sftp.stat(path, done));
    } catch (error) {
      if (error instanceof RemoteFileError && error.status === sftpStatus.noSuchFile) return undefined;
      throw error;
    }
  }

  /** Opens `path` for writing: `'w'` creates or truncates it, `'r+'` keeps what it holds. */
  public async open(path: string, flags: 'w' | 'r+'): Promise<Buffer> {
    return this.request('open', path, (done) => this.sftp.open(path, flags, done));
  }

  /** Creates (or truncates) `path` for writing, creating the folders it needs. */
  public async create(path: string): Promise<Buffer> {
    try {
      return await this.open(path, 'w');
    } catch (error) {
      if (!(error instanceof RemoteFileError && error.status === sftpStatus.noSuchFile)) throw error;
    }
    await this.makeFolders(posix.dirname(path));
    return this.open(path, 'w');
  }

  public async close(handle: Buffer, path: string): Promise<void> {
    await this.request('close', path, (done) => this.sftp.close(handle, done));
  }

  /**
   * Creates `folder` and any missing folders above it. Existing folders are looked at from the
   * deepest up, so a delivery into an existing folder costs one request.
   */
  public async makeFolders(folder: string): Promise<void> {
    const missing: string[] = [];
    for (let current = folder; ; current = posix.dirname(current)) {
      const found = await this.stat(current);
      if (found) {
        if (!found.isDirectory()) throw new RemoteFileError('mkdir', current, sftpStatus.noSuchFile, new Error('a file, not a folder, stands there'));
        break;
      }
      missing.unshift(current);
      if (posix.dirname(current) === current) break;
    }
    for (const path of missing) {
      try {
        await this.request('mkdir', path, (done) => this.sftp.mkdir(path, done));
      } catch (error) {
        // Another delivery may have made it in the meantime.
        if (!(await this.stat(path))?.isDirectory()) throw error;
      }
    }
  }

  /**
   * Moves `from` to `to`, replacing a file already at `to` in one step where the server offers
   * POSIX rename (OpenSSH's `posix-rename@openssh.com`). SFTP's own rename refuses an existing
   * target, so without the extension the target is removed first; the answer says which was used.
   */
  public async replace(from: string, to: string): Promise<'posix-rename' | 'remove-and-rename'> {
    if (this.session.offersPosixRename) {
      await this.request('rename', from, (done) => this.sftp.ext_openssh_rename(from, to, done));
      return 'posix-rename';
    }
    await this.remove(to);
    await this.request('rename', from, (done) => this.sftp.rename(from, to, done));
    return 'remove-and-rename';
  }

  /** Removes `path`; a file that is not there is no failure. */
  public async remove(path: string): Promise<void> {
    try {
      await this.request('remove', path, (done) => this.sftp.unlink(path, done));
    } catch (error) {
      if (!(error instanceof RemoteFileError && error.status === sftpStatus.noSuchFile)) throw error;
    }
  }

  /** The absolute, canonical form of `path` as the server resolves it. */
  public async realPath(path: string): Promise<string> {
    return this.request('realpath', path, (done) => this.sftp.realpath(path, done));
  }

  /**
   * The failure of a request: a request the connection took down with it fails as the
   * connection's loss (with its reason), not as a failure of the request.
   */
  public failure(operation: string, path: string, error: unknown): Error {
    const lost = this.session.lost;
    if (lost) return lost instanceof ConnectionLostError ? lost : new ConnectionLostError(lost);
    return new RemoteFileError(operation, path, statusOf(error), error);
  }

  private request<T>(operation: string, path: string, send: (done: (error?: Error | null, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (error: unknown): void => reject(this.failure(operation, path, error));
      // ssh2 never answers a request sent after the connection ended: it would be waited for forever.
      if (this.session.lost) {
        fail(this.session.lost);
        return;
      }
      try {
        send((error, value) => (error ? fail(error) : resolve(value as T)));
      } catch (error) {
        fail(error);
      }
    });
  }
}
