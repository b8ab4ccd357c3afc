import { createHash } from 'node:crypto';
import type { ConnectConfig, SFTPWrapper } from 'ssh2';
import Client from 'ssh2/lib/client.js';
import keyParser from 'ssh2/lib/protocol/keyParser.js';
import { guardedConnect, type NetworkPolicy } from '../../../shared/destination/index.ts';
import { ConnectionLostError, HostKeyMismatchError, PrivateKeyError } from './errors.ts';
import { writesGathered } from './gathered-writes.ts';
import type { SftpDestinationFields } from './schema.ts';

/** How long a connection may take, and how a silent server is noticed. */
export interface ConnectionSettings {
  /** Time for the TCP connection, the SSH handshake and the login together. @default 20 s */
  readonly handshakeTimeoutMs: number;
  /** Keepalives are sent this often… @default 10 s */
  readonly keepaliveIntervalMs: number;
  /** …and this many unanswered ones end the connection, so a stalled upload fails and is retried. @default 3 */
  readonly keepaliveCountMax: number;
}

export const defaultConnectionSettings: ConnectionSettings = { handshakeTimeoutMs: 20_000, keepaliveIntervalMs: 10_000, keepaliveCountMax: 3 };

/** The key's fingerprint as `ssh-keygen -l` prints it: `SHA256:` and the unpadded base64 of the key blob's SHA-256. */
function fingerprintOf(hostKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
}

/**
 * What the server announced in its SFTP version answer. ssh2 keeps it in fields it does not
 * document (and splits a write larger than its limit into requests sent one after another), so
 * they are read here, in one place, with safe values when they are missing.
 */
function announced(sftp: SFTPWrapper): Pick<SftpSession, 'offersPosixRename' | 'maxWriteBytes'> {
  const { _extensions: extensions, _maxWriteLen: maxWriteLen } = sftp as unknown as { _extensions?: Record<string, string>; _maxWriteLen?: number };
  return {
    offersPosixRename: extensions?.['posix-rename@openssh.com'] !== undefined,
    maxWriteBytes: typeof maxWriteLen === 'number' && maxWriteLen > 0 ? maxWriteLen : 31 * 1024,
  };
}

/** An open SSH connection with its SFTP session. */
export interface SftpSession {
  readonly sftp: SFTPWrapper;
  /** The fingerprint of the host key the server showed. */
  readonly hostKey: string;
  /** The server announced `posix-rename@openssh.com` (a rename that replaces the target in one step). */
  readonly offersPosixRename: boolean;
  /** The most data one write request may carry (the server's `limits@openssh.com`, else ssh2's safe size). */
  readonly maxWriteBytes: number;
  /** Why the connection ended, once it has (undefined while it is up). */
  readonly lost: Error | undefined;
  /** Ends the connection (idempotent). */
  close(): void;
}

/** The login the destination gives, with the private key checked first so its problems are named. */
function loginOf(destination: SftpDestinationFields): Pick<ConnectConfig, 'username' | 'password' | 'privateKey' | 'passphrase'> {
  const { user, password, private_key: privateKey, passphrase } = destination;
  if (privateKey !== undefined) {
    const parsed = keyParser.parseKey(privateKey, passphrase);
    if (parsed instanceof Error) {
      const encrypted = /encrypted|passphrase|decrypt/i.test(parsed.message) || passphrase !== undefined;
      throw new PrivateKeyError(parsed.message, encrypted);
    }
  }
  return {
    username: user,
    ...(password === undefined ? {} : { password }),
    ...(privateKey === undefined ? {} : { privateKey, ...(passphrase === undefined ? {} : { passphrase }) }),
  };
}

/**
 * Connects to the destination's server through the network guard (the socket is made by
 * `guardedConnect` and handed to ssh2), checks its host key against `host_key` when one is pinned,
 * logs in and opens an SFTP session. An aborted `signal` ends the connection at any point.
 */
export async function openSftpSession(
  destination: SftpDestinationFields,
  network: NetworkPolicy,
  signal: AbortSignal,
  settings: ConnectionSettings = defaultConnectionSettings,
): Promise<SftpSession> {
  signal.throwIfAborted();
  const login = loginOf(destination);
  const client = new Client();
  let hostKey = '';
  let mismatch: HostKeyMismatchError | undefined;
  let lost: Error | undefined;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    client.end();
    // end() waits for the server's goodbye; a dead peer never sends it.
    setTimeout(() => client.destroy(), 1_000).unref();
  };
  const onAbort = (): void => {
    lost ??= signal.reason instanceof Error ? signal.reason : new Error('aborted');
    close();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  client.on('error', (error) => {
    lost ??= mismatch ?? error;
  });
  client.on('close', () => {
    lost ??= new ConnectionLostError();
    signal.removeEventListener('abort', onAbort);
  });

  const ready = new Promise<void>((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', (error) => reject(mismatch ?? error));
    client.once('close', () => reject(lost ?? new ConnectionLostError()));
  });
  client.connect({
    sock: writesGathered(guardedConnect({ host: destination.host, port: destination.port }, network)),
    ...login,
    readyTimeout: settings.handshakeTimeoutMs,
    keepaliveInterval: settings.keepaliveIntervalMs,
    keepaliveCountMax: settings.keepaliveCountMax,
    hostVerifier: (key: Buffer) => {
      hostKey = fingerprintOf(key);
      if (destination.host_key === undefined || destination.host_key === hostKey) return true;
      mismatch = new HostKeyMismatchError(hostKey, destination.host_key);
      return false;
    },
  });
  try {
    await ready;
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
      client.sftp((error, session) => (error ? reject(error) : resolve(session)));
    });
    return {
      sftp,
      hostKey,
      ...announced(sftp),
      get lost() {
        return lost;
      },
      close,
    };
  } catch (error) {
    close();
    throw signal.aborted ? signal.reason : error;
  }
}
