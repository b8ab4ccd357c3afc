import { FileSystem, FtpSrv } from 'ftp-srv';
import { randomBytes, randomInt } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { installSameTickAuthTls } from './ftp-auth-tls.ts';
import { createTemporaryFolder } from './temporary-folder.ts';
import { createSelfSignedCertificate } from './tls-certificate.ts';

/**
 * `false`: plain FTP; `'explicit'`: FTPS that starts plain and upgrades with AUTH TLS;
 * `'implicit'`: FTPS with TLS from the first byte.
 */
export type FtpSecurity = false | 'explicit' | 'implicit';

export interface TestFtpServerOptions {
  /** @default false */
  readonly secure?: FtpSecurity;
  /**
   * What becomes of each rename's answer, once the file is renamed (given RNTO's argument as the
   * client sent it): sent; `lost` (the control connection breaks instead); `withheld` (never sent,
   * the connection kept). @default always sent
   */
  readonly renameAnswer?: (to: string) => RenameAnswer;
  /**
   * Keep what arrived of a file whose data connection broke, as vsftpd and ProFTPD do unless told
   * otherwise, so a client can continue it; ftp-srv's own way is to delete it. @default false
   */
  readonly keepBrokenUploads?: boolean;
}

/** What becomes of a rename's answer (`TestFtpServerOptions.renameAnswer`). */
export type RenameAnswer = 'sent' | 'lost' | 'withheld';

/** An FTP server on 127.0.0.1 with one user whose files live in `root`. */
export interface TestFtpServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The user's folder on disk: what they upload lands here. */
  readonly root: string;
  /** The ports passive data connections are offered on (inclusive), on 127.0.0.1. */
  readonly passivePorts: { readonly from: number; readonly to: number };
  readonly secure: FtpSecurity;
  /** The server's self-signed certificate (undefined for plain FTP): trust it as the only CA. */
  readonly certificatePem: string | undefined;
  /** Its SHA-256 fingerprint, `AB:CD:…` as `PeerCertificate.fingerprint256` gives it, to pin. */
  readonly fingerprint256: string | undefined;
  /** Successful logins so far (one per control connection that logged in). */
  readonly logins: number;
  /** Control connections open now. */
  readonly openConnections: number;
  /** Bytes the server has written to `path` (as the client named it, e.g. `/a/b.bin`) by STOR and APPE. */
  bytesWritten(path: string): number;
  /** Every STOR and APPE so far, in order (a test may empty it). */
  readonly transfers: FtpTransfer[];
  /** Drops every control connection without a word, as an idle timeout or a NAT gateway does. */
  dropConnections(): void;
  close(): Promise<void>;
}

// Passive data ports come from a range below Linux's ephemeral ports (32768–60999), so they do not
// collide with the ports clients connect from; each server draws its own range, so servers in
// parallel test workers rarely try the same port (ftp-srv moves on when one is taken).
const passivePortRangeSize = 100;
const passivePortsFrom = 20_000;
const passivePortsTo = 32_000;

// ftp-srv logs through bunyan to stdout unless given a logger; client errors still reach tests as
// failed commands.
const silentLogger = {
  child: () => silentLogger,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** One STOR or APPE as the server wrote it. */
export interface FtpTransfer {
  /** The path as the client named it, absolute (`/a/b.bin`). */
  readonly path: string;
  bytes: number;
  /** `performance.now()` when the first byte was written, and when the file was complete. */
  firstByteAt: number | undefined;
  endedAt: number | undefined;
}

/** ftp-srv's file system, recording the bytes and the timing of each STOR and APPE. */
class RecordingFileSystem extends FileSystem {
  public constructor(
    connection: ConstructorParameters<typeof FileSystem>[0],
    options: { root: string; cwd: string },
    private readonly transfers: FtpTransfer[],
    private readonly renameAnswer: ((to: string) => RenameAnswer) | undefined,
    private readonly keepBrokenUploads: boolean,
  ) {
    super(connection, options);
  }

  public override async rename(from: string, to: string): Promise<unknown> {
    const renamed: unknown = await super.rename(from, to);
    const answer = this.renameAnswer?.(to) ?? 'sent';
    if (answer === 'sent') return renamed;
    // Renamed, and the answer never leaves: lost as the network drops the connection, or withheld.
    if (answer === 'lost') (this.connection as unknown as { commandSocket?: Socket }).commandSocket?.resetAndDestroy();
    return new Promise(() => undefined);
  }

  public override write(fileName: string, options?: { append?: boolean; start?: number }): { stream: Writable; clientPath: string } {
    const written = super.write(fileName, options) as { stream: Writable; clientPath: string };
    const { stream, clientPath } = written;
    if (this.keepBrokenUploads) {
      // ftp-srv's only listener so far deletes the file when its transfer breaks.
      stream.removeAllListeners('error');
      stream.on('error', () => undefined);
    }
    const transfer: FtpTransfer = { path: clientPath, bytes: 0, firstByteAt: undefined, endedAt: undefined };
    this.transfers.push(transfer);
    const write = stream.write.bind(stream) as (chunk: Buffer, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: Buffer, ...rest: unknown[]) => {
      transfer.firstByteAt ??= performance.now();
      transfer.bytes += chunk.length;
      return write(chunk, ...rest);
    }) as Writable['write'];
    stream.once('finish', () => {
      transfer.endedAt = performance.now();
    });
    return written;
  }
}

/**
 * Starts ftp-srv (pure Node, in the test process) on a port the kernel picks, in passive mode only,
 * for plain FTP, explicit FTPS or implicit FTPS. The user and a fresh password are the only login;
 * a fresh self-signed certificate is made for the secure modes.
 *
 * @example
 * const server = await startFtpServer({ secure: 'explicit' });
 * await client.access({
 *   host: server.host, port: server.port, user: server.user, password: server.password, secure: true,
 *   secureOptions: {
 *     ca: [server.certificatePem!],
 *     checkServerIdentity: (_host, certificate) =>
 *       certificate.fingerprint256 === server.fingerprint256 ? undefined : new Error('not the pinned certificate'),
 *   },
 * });
 */
export async function startFtpServer(options: TestFtpServerOptions = {}): Promise<TestFtpServer> {
  const secure = options.secure ?? false;
  const user = 'udftp';
  const password = randomBytes(12).toString('base64url');
  const root = await createTemporaryFolder('ftp');
  const certificate = secure ? await createSelfSignedCertificate() : undefined;
  const passiveFrom = randomInt(passivePortsFrom, passivePortsTo - passivePortRangeSize);
  if (secure === 'explicit') installSameTickAuthTls();

  // Each ftp-srv adds SIGTERM/SIGINT/SIGQUIT listeners that close it and exit the process with 0,
  // and never removes them: they would pile up over a test run and turn a signal into a clean exit.
  const server = withoutAddedSignalListeners(
    () =>
      new FtpSrv({
        url: `${secure === 'implicit' ? 'ftps' : 'ftp'}://127.0.0.1:0`,
        pasv_url: '127.0.0.1',
        pasv_min: passiveFrom,
        pasv_max: passiveFrom + passivePortRangeSize - 1,
        // With TLS options and an ftp:// URL, ftp-srv answers AUTH TLS (explicit FTPS).
        tls: certificate ? { cert: certificate.certificatePem, key: certificate.privateKeyPem } : false,
        anonymous: false,
        log: silentLogger,
      }),
  );
  const transfers: FtpTransfer[] = [];
  let logins = 0;
  type Connection = { readonly commandSocket?: Socket };
  const connections = new Set<Connection>();
  // ftp-srv emits 'connect' for every control connection; its type declarations omit it.
  (server as unknown as EventEmitter).on('connect', ({ connection }: { connection: Connection }) => connections.add(connection));
  server.on('disconnect', ({ connection }) => connections.delete(connection as Connection));
  server.on('login', ({ connection, username, password: given }, resolve, reject) => {
    if (username !== user || given !== password) {
      reject(new Error('wrong user name or password'));
      return;
    }
    logins += 1;
    resolve({ fs: new RecordingFileSystem(connection, { root: root.path, cwd: '/' }, transfers, options.renameAnswer, options.keepBrokenUploads ?? false) });
  });

  try {
    await server.listen();
  } catch (error) {
    await root.remove();
    throw error;
  }
  // ftp-srv listens where its URL says; with port 0 the kernel's choice is only on the socket.
  const { port } = (server as unknown as { server: Server }).server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    root: root.path,
    passivePorts: { from: passiveFrom, to: passiveFrom + passivePortRangeSize - 1 },
    secure,
    certificatePem: certificate?.certificatePem,
    fingerprint256: certificate?.fingerprint256,
    get logins() {
      return logins;
    },
    get openConnections() {
      return connections.size;
    },
    bytesWritten: (path) => transfers.filter((transfer) => transfer.path === path).reduce((sum, transfer) => sum + transfer.bytes, 0),
    transfers,
    dropConnections: () => {
      for (const connection of connections) connection.commandSocket?.destroy();
    },
    close: async () => {
      await server.close();
      await root.remove();
    },
  };
}

/** Runs `create`, then takes off the process's signal listeners that it added. */
function withoutAddedSignalListeners<T>(create: () => T): T {
  const signals = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
  const before = signals.map((signal) => new Set(process.listeners(signal)));
  const created = create();
  signals.forEach((signal, index) => {
    for (const listener of process.listeners(signal)) if (!before[index]!.has(listener)) process.off(signal, listener);
  });
  return created;
}
