import { Client, FTPError, type FTPResponse } from 'basic-ftp';
import { isIP } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { guardedConnect, guardedTlsConnect, type NetworkPolicy } from '../../../shared/destination/index.ts';
import type { FtpSecurity } from './address.ts';
import { pinnedCertificateMismatch } from './certificate.ts';
import { PassiveMode, passiveTransfer } from './passive.ts';
import { during } from './reply-error.ts';

/** A server, how to reach it and as whom. */
export interface FtpServer {
  readonly hostname: string;
  readonly port: number;
  readonly secure: FtpSecurity;
  /** The pinned certificate (normalized fingerprint); without one the chain and host name are verified. */
  readonly certificateFingerprint: string | undefined;
  readonly user: string;
  readonly password: string;
}

/** A logged-in control connection, binary mode set, ready for transfers. */
export interface FtpConnection {
  readonly client: Client;
  /** The server's FEAT answer by feature: `SIZE` → `''`, `REST` → `STREAM`, … */
  readonly features: ReadonlyMap<string, string>;
  readonly passive: PassiveMode;
}

function tlsOptionsFor(server: FtpServer): ConnectionOptions {
  return {
    // The identity data connections resume the session under, and verify against.
    host: server.hostname,
    ...(isIP(server.hostname) === 0 ? { servername: server.hostname } : {}),
    // A pinned certificate stands in for the chain (self-signed servers); it is checked before the login.
    rejectUnauthorized: server.certificateFingerprint === undefined,
    minVersion: 'TLSv1.2',
  };
}

/** Waits for the server's 220; a 1xx ("ready in n minutes") waits on, within the timeout. */
function greeting(client: Client): Promise<FTPResponse> {
  return client.ftp.handle(undefined, (response, task) => {
    if (response instanceof Error) task.reject(response);
    else if (response.code >= 200 && response.code < 300) task.resolve(response);
    else if (response.code >= 300) task.reject(new FTPError(response));
  });
}

function checkPinnedCertificate(client: Client, fingerprint: string | undefined): void {
  if (fingerprint === undefined) return;
  const mismatch = pinnedCertificateMismatch(client.ftp.socket as TLSSocket, fingerprint);
  if (mismatch) throw mismatch;
}

/**
 * Connects to `server` through the network guard (TLS from the first byte for implicit FTPS, AUTH
 * TLS for explicit), checks a pinned certificate before anything is sent, logs in, and sets binary
 * mode and, over TLS, protected data connections. Data connections then go through
 * {@link passiveTransfer}. A failure closes what was opened.
 */
export async function openFtpConnection(server: FtpServer, network: NetworkPolicy, timeoutMilliseconds: number): Promise<FtpConnection> {
  const client = new Client(timeoutMilliseconds);
  const tls = tlsOptionsFor(server);
  try {
    if (server.secure === 'implicit') {
      client.ftp.socket = guardedTlsConnect({ ...tls, port: server.port }, network);
      // After the socket: setting one resets them. Data connections take these.
      client.ftp.tlsOptions = tls;
    } else {
      client.ftp.socket = guardedConnect({ host: server.hostname, port: server.port }, network);
    }
    await during('connect', () => greeting(client));
    if (server.secure === 'explicit') await during('start TLS (AUTH TLS)', () => client.useTLS(tls));
    if (server.secure) checkPinnedCertificate(client, server.certificateFingerprint);
    // Before the login, so non-ASCII user names and passwords travel as UTF-8 where servers allow.
    await client.sendIgnoringError('OPTS UTF8 ON');
    await during('log in', () => client.login(server.user, server.password), [server.password]);
    const features = await client.features();
    await during('set binary mode (TYPE I)', () => client.send('TYPE I'));
    if (server.secure) {
      // Without PROT P the file would travel in clear on the data connection: refusal fails the delivery.
      await during('protect data connections (PBSZ 0)', () => client.send('PBSZ 0'));
      await during('protect data connections (PROT P)', () => client.send('PROT P'));
    }
    const passive = new PassiveMode();
    client.prepareTransfer = passiveTransfer(passive, network, server.certificateFingerprint);
    return { client, features, passive };
  } catch (error) {
    client.close();
    throw error;
  }
}
