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
  /** The most data one write request carried. */
  public largestWrite = 0;
  /** The most write requests awaiting their answers at once. */
  public mostInFlight = 0;
  private inFlight = 0;

  public constructor() {
    const { SFTP } = createRequire(import.meta.url)('ssh2/lib/protocol/SFTP.js') as { SFTP: { prototype: SFTPWrapper } };
    const prototype = SFTP.prototype;
    const open = prototype.open as (...args: unknown[]) => void;
    const write = prototype.write as (...args: unknown[]) => void;
    const paths = new WeakMap<Buffer, string>();
    const sent = (path: string, length: number): (() => void) => this.sent(path, length);
    prototype.open = function (this: SFTPWrapper, path: string, flags: string, ...rest: unknown[]) {
      const callback = rest.pop() as (error: Error | undefined, handle: Buffer) => void;
      open.call(this, path, flags, ...rest, (error: Error | undefined, handle: Buffer) => {
        if (!error) paths.set(handle, path);
        callback(error, handle);
      });
    } as Open;
    prototype.write = function (this: SFTPWrapper, handle: Buffer, buffer: Buffer, offset: number, length: number, position: number, callback: (error?: Error) => void) {
      const answered = sent(paths.get(handle) ?? '', length);
      write.call(this, handle, buffer, offset, length, position, (error?: Error) => {
        answered();
        callback(error);
      });
    } as Write;
  }

  /** Forgets the largest write and the most in flight seen so far. */
  public resetPeaks(): void {
    this.largestWrite = 0;
    this.mostInFlight = 0;
  }

  /** Counts a write request sent; returns what to call when it is answered. */
  private sent(path: string, length: number): () => void {
    this.bytesByPath.set(path, (this.bytesByPath.get(path) ?? 0) + length);
    this.largestWrite = Math.max(this.largestWrite, length);
    this.inFlight += 1;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    return () => {
      this.inFlight -= 1;
    };
  }

  /** Data bytes written so far to files whose path `matches`. */
  public bytesTo(matches: (path: string) => boolean): number {
    return [...this.bytesByPath].filter(([path]) => matches(path)).reduce((sum, [, bytes]) => sum + bytes, 0);
  }
}
