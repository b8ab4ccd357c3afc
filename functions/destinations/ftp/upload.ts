import { TransientError, type NetworkPolicy, type ProbeCheck, type Uploader } from '../../../shared/destination/index.ts';
import { defaultFtpPort, ftpFileUrl, parseFtpHost } from './address.ts';
import { openFtpConnection, type FtpConnection, type FtpServer } from './connection.ts';
import { classifyFtpError } from './errors.ts';
import { defaultPoolSettings, FtpConnectionPool, type PoolSettings } from './pool.ts';
import type { FtpDestinationFields } from './schema.ts';
import { probeWrite, removeFile, storeFile, type FtpResumeState } from './store.ts';

export interface FtpUploaderSettings {
  /** How long the server may stay silent: a reply, a data connection, a stalled transfer. @default 30 s */
  readonly timeoutMilliseconds: number;
  /** How long a stopped delivery may take to have its transfer confirmed before its connection is cut. @default 5 s */
  readonly stopGraceMilliseconds: number;
  /** How connections are kept between deliveries. */
  readonly pool: PoolSettings;
}

export const defaultFtpUploaderSettings: FtpUploaderSettings = { timeoutMilliseconds: 30_000, stopGraceMilliseconds: 5_000, pool: defaultPoolSettings };

/** The server, port and login a destination names; anonymous when it names no user. */
export function ftpServerOf(destination: FtpDestinationFields): FtpServer {
  const { hostname, port } = parseFtpHost(destination.host);
  return {
    hostname,
    port: destination.port ?? port ?? defaultFtpPort(destination.secure),
    secure: destination.secure,
    certificateFingerprint: destination.certificate_fingerprint,
    user: destination.user ?? 'anonymous',
    password: destination.password ?? (destination.user === undefined ? 'anonymous@' : ''),
  };
}

function stopped(signal: AbortSignal, cause: unknown): TransientError {
  return new TransientError('the upload was stopped before the function timed out; the next attempt continues from what the server holds', {
    code: 'Aborted',
    cause: signal.reason ?? cause,
  });
}

/** What the user should know about how the file travelled, where it differs from what was asked. */
function notesOf(destination: FtpDestinationFields, connection: FtpConnection): string[] {
  const notes: string[] = [];
  if (!destination.passive) {
    notes.push('delivered in passive mode: active mode (passive: false) is impossible from AWS Lambda, which accepts no inbound connections');
  }
  const asked = destination.epsv ? 'EPSV' : 'PASV';
  const used = connection.passive.working;
  if (used !== undefined && used !== asked) notes.push(`${asked} gave no usable data connection (refused, unreadable, or an address that could not be reached): ${used} was used`);
  return notes;
}

/**
 * An uploader to FTP and FTPS servers, in passive mode, through a temporary file beside the final
 * one that is renamed into place when complete. A failed attempt leaves the temporary file for the
 * next, which continues it from its size; `discard` deletes it. Connections are kept across the
 * deliveries of a warm function and closed by `shutdown`.
 */
export function createFtpUploader(settings: FtpUploaderSettings = defaultFtpUploaderSettings): Uploader<FtpDestinationFields, FtpResumeState> {
  const pool = new FtpConnectionPool((server, network) => openFtpConnection(server, network, settings.timeoutMilliseconds), settings.pool);

  /**
   * Runs `work` on a pooled connection to `server`: given back after success, closed after a
   * failure (its state is unknown), and cut off if it still runs a while after `signal` aborts
   * (a transfer under way ends itself cleanly when it aborts).
   */
  async function withConnection<T>(server: FtpServer, network: NetworkPolicy, signal: AbortSignal, work: (connection: FtpConnection) => Promise<T>): Promise<T> {
    const lease = await pool.acquire(server, network);
    let cutOff: NodeJS.Timeout | undefined;
    const abort = (): void => {
      cutOff = setTimeout(() => lease.destroy(), settings.stopGraceMilliseconds);
    };
    signal.addEventListener('abort', abort, { once: true });
    try {
      if (signal.aborted) throw stopped(signal, undefined);
      const result = await work(lease.connection);
      lease.release();
      return result;
    } catch (error) {
      lease.destroy();
      throw signal.aborted ? stopped(signal, error) : error;
    } finally {
      clearTimeout(cutOff);
      signal.removeEventListener('abort', abort);
    }
  }

  return {
    async upload({ destination, source, signal, network, resume }) {
      const server = ftpServerOf(destination);
      try {
        return await withConnection(server, network, signal, async (connection) => {
          connection.passive.prefer(destination.epsv ? 'EPSV' : 'PASV');
          const stored = await storeFile(connection, destination.filename, source, resume, signal);
          return {
            url: ftpFileUrl(server, destination.filename),
            details: {
              path: destination.filename,
              command: stored.command,
              data_connection: connection.passive.working ?? 'none',
              ...(stored.resumedAt > 0 ? { resumed_at: stored.resumedAt } : {}),
            },
            notes: [
              ...notesOf(destination, connection),
              ...(stored.continuationRefused === undefined ? [] : [`the server refused to continue the earlier attempt's file (${stored.continuationRefused}): it was sent whole`]),
              ...(stored.renamedEarlier === true ? ['an earlier attempt had renamed the file into place before it ended: it was not sent again'] : []),
            ],
          };
        });
      } catch (error) {
        // Classified here, so that TLS failures are explained in FTP's terms.
        throw classifyFtpError(error);
      }
    },
    classify: classifyFtpError,
    async discard({ destination, state, signal, network }) {
      try {
        await withConnection(ftpServerOf(destination), network, signal, (connection) => removeFile(connection.client, state.temporaryPath));
      } catch (error) {
        throw classifyFtpError(error);
      }
    },
    /** Logs in, then writes (and deletes) a few bytes beside the filename: nothing is left behind. */
    async probe({ destination, signal, network }): Promise<ProbeCheck[]> {
      const server = ftpServerOf(destination);
      const where = `${server.hostname}:${server.port}${server.secure ? ` (FTPS, ${server.secure})` : ''}`;
      const login = { name: 'login', ok: true, detail: `logged in to ${where} as ${server.user}` };
      let loggedIn = false;
      try {
        return await withConnection(server, network, signal, async (connection) => {
          loggedIn = true;
          const written = await probeWrite(connection, destination.filename);
          return [login, { name: 'write', ok: true, detail: `wrote and deleted ${written}` }];
        });
      } catch (error) {
        const reason = classifyFtpError(error).message;
        return loggedIn ? [login, { name: 'write', ok: false, detail: reason }] : [{ name: 'login', ok: false, detail: reason }];
      }
    },
    async shutdown() {
      await pool.close();
    },
  };
}

/** The uploader of the FTP destination's function. */
export const ftpUploader = createFtpUploader();
