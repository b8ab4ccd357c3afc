import { createRequire } from 'node:module';
import type { SFTPWrapper } from 'ssh2';

type Open = SFTPWrapper['open'];
type Write = SFTPWrapper['write'];

/**
 * Counts the data of every SFTP write request the ssh2 client of this process sends, by the path
 * of the file it writes to (each counted request was answered OK by the server, or the upload
 * failed). The SFTP server logs nothing per request that a test could read, so the count is taken
 * where the requests are made: ssh2's SFTP class, wrapped once for the whole test file.
 */
export class SftpWriteCounter {
  private readonly bytesByPath = new Map<string, number>();

  public constructor() {
    const { SFTP } = createRequire(import.meta.url)('ssh2/lib/protocol/SFTP.js') as { SFTP: { prototype: SFTPWrapper } };
    const prototype = SFTP.prototype;
    const open = prototype.open as (...args: unknown[]) => void;
    const write = prototype.write as (...args: unknown[]) => void;
    const paths = new WeakMap<Buffer, string>();
    const bytesByPath = this.bytesByPath;
    prototype.open = function (this: SFTPWrapper, path: string, flags: string, ...rest: unknown[]) {
      const callback = rest.pop() as (error: Error | undefined, handle: Buffer) => void;
      open.call(this, path, flags, ...rest, (error: Error | undefined, handle: Buffer) => {
        if (!error) paths.set(handle, path);
        callback(error, handle);
      });
    } as Open;
    prototype.write = function (this: SFTPWrapper, handle: Buffer, buffer: Buffer, offset: number, length: number, ...rest: unknown[]) {
      const path = paths.get(handle) ?? '';
      bytesByPath.set(path, (bytesByPath.get(path) ?? 0) + length);
      write.call(this, handle, buffer, offset, length, ...rest);
    } as Write;
  }

  /** Data bytes written so far to files whose path `matches`. */
  public bytesTo(matches: (path: string) => boolean): number {
    return [...this.bytesByPath].filter(([path]) => matches(path)).reduce((sum, [, bytes]) => sum + bytes, 0);
  }
}
