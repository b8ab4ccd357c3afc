import { FTPError, type FTPContext, type FTPResponse, type TransferStrategy } from 'basic-ftp';
import { isIPv4, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { guardedConnect, type NetworkPolicy } from '../../../shared/destination/index.ts';
import { pinnedCertificateMismatch } from './certificate.ts';

/** The two ways to ask a server for a passive data connection. */
export type PassiveCommand = 'EPSV' | 'PASV';

/**
 * How one control connection opens data connections: the command a delivery prefers, the one the
 * server turned out to accept (kept for the next transfer), and a restart offset to send just
 * before the next transfer command.
 */
export class PassiveMode {
  public preferred: PassiveCommand = 'PASV';
  public working: PassiveCommand | undefined;
  /** `REST <offset>` goes out once the data connection is open, right before STOR (RFC 3659 wants it last). */
  public restartAt: number | undefined;

  /** Sets the delivery's preference; a changed preference is tried again from the start. */
  public prefer(command: PassiveCommand): void {
    if (command === this.preferred) return;
    this.preferred = command;
    this.working = undefined;
  }
}

/** Neither EPSV nor PASV gave a data connection (and active mode is impossible from Lambda). */
export class PassiveModeRefusedError extends Error {
  public constructor(refusals: ReadonlyMap<PassiveCommand, unknown>) {
    const reasons = [...refusals].map(([command, reason]) => `${command}: ${reason instanceof Error ? reason.message : String(reason)}`);
    super(`no passive data connection (${reasons.join('; ')})`, { cause: [...refusals.values()].at(-1) });
    this.name = 'PassiveModeRefusedError';
  }
}

interface DataTarget {
  readonly host: string;
  readonly port: number;
}

/** The control connection's peer, as an IPv4 address when it is one in IPv6 clothing. */
function controlAddress(ftp: FTPContext): string {
  const address = ftp.socket.remoteAddress;
  if (address === undefined) throw new Error('the control connection is closed');
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

/** `229 Entering Extended Passive Mode (|||6446|)`: the port, on the control connection's host. */
function epsvTarget(message: string, ftp: FTPContext): DataTarget | undefined {
  const match = /\((.)\1\1(\d{1,5})\1\)/.exec(message);
  const port = Number(match?.[2]);
  return match && port >= 1 && port <= 65_535 ? { host: controlAddress(ftp), port } : undefined;
}

/**
 * Networks a server behind NAT wrongly advertises as its own: private, loopback, link-local,
 * carrier-grade NAT and "this network". (The network guard still judges every address connected to.)
 */
const unroutableNetworks = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'].map(
  (cidr) => {
    const [address, bits] = cidr.split('/');
    return { first: ipv4Number(address!), size: 2 ** (32 - Number(bits)) };
  },
);

function ipv4Number(address: string): number {
  return address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

function isUnroutable(address: string): boolean {
  const value = ipv4Number(address);
  return unroutableNetworks.some(({ first, size }) => value >= first && value < first + size);
}

/**
 * `227 Entering Passive Mode (192,168,1,100,10,229)`: the address and port to connect to. An
 * unroutable address that is not the one the control connection reached is a server behind NAT
 * telling its inside address: the control connection's address is used instead, as FileZilla does.
 */
function pasvTarget(message: string, ftp: FTPContext): DataTarget | undefined {
  const numbers = /(?<!\d)(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})(?!\d)/.exec(message)?.slice(1).map(Number);
  if (!numbers || numbers.some((number) => number > 255)) return undefined;
  const host = numbers.slice(0, 4).join('.');
  const port = numbers[4]! * 256 + numbers[5]!;
  if (port === 0) return undefined;
  const control = controlAddress(ftp);
  return { host: isUnroutable(host) && host !== control ? control : host, port };
}

/** PASV speaks IPv4 only: over an IPv6 control connection, EPSV is the only way. */
function commandsToTry(mode: PassiveMode, ftp: FTPContext): PassiveCommand[] {
  if (mode.working) return [mode.working];
  if (!isIPv4(controlAddress(ftp))) return ['EPSV'];
  return mode.preferred === 'EPSV' ? ['EPSV', 'PASV'] : ['PASV', 'EPSV'];
}

/**
 * TLS on the data connection, resuming the control connection's session (servers require it, so
 * nobody else can take over the data port), verified like the control connection or against
 * the pinned certificate.
 */
function secureDataSocket(ftp: FTPContext, raw: Socket, pinned: string | undefined): TLSSocket {
  const control = ftp.socket as TLSSocket;
  const socket = tlsConnect({ ...ftp.tlsOptions, socket: raw, session: ftp.tlsSessionStore ?? control.getSession() });
  // TLS 1.3 tickets are single-use: the next data connection resumes with the newest one.
  socket.on('session', (session: Buffer) => {
    ftp.tlsSessionStore = session;
  });
  if (pinned !== undefined) {
    // Before basic-ftp's own listener starts sending the file.
    socket.prependOnceListener('secureConnect', () => {
      const mismatch = pinnedCertificateMismatch(socket, pinned);
      if (mismatch) socket.destroy(mismatch);
    });
  }
  return socket;
}

/** Connects the data connection through the network guard and hands it to basic-ftp. */
function openDataConnection(ftp: FTPContext, target: DataTarget, network: NetworkPolicy, pinned: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const raw = guardedConnect({ host: target.host, port: target.port }, network);
    const fail = (error: Error): void => {
      raw.destroy();
      reject(error);
    };
    const onTimeout = (): void =>
      fail(Object.assign(new Error(`timed out opening the data connection to ${target.host}:${target.port}`), { code: 'ETIMEDOUT' }));
    raw.setTimeout(ftp.timeout, onTimeout);
    raw.once('error', fail);
    raw.once('connect', () => {
      raw.setTimeout(0);
      raw.off('timeout', onTimeout);
      raw.off('error', fail);
      ftp.dataSocket = ftp.socket instanceof TLSSocket ? secureDataSocket(ftp, raw, pinned) : raw;
      resolve();
    });
  });
}

/** Sends a passive-mode command; a 5xx refusal is returned (to try the other command), anything else thrown. */
async function askForPassive(ftp: FTPContext, command: PassiveCommand): Promise<FTPResponse | FTPError> {
  try {
    return await ftp.request(command);
  } catch (error) {
    if (error instanceof FTPError && error.code >= 500) return error;
    throw error;
  }
}

/**
 * basic-ftp's `prepareTransfer` for deliveries: EPSV or PASV as preferred, the other when the
 * server refuses it or answers unreadably, or when the address a PASV answer names (not the
 * control connection's) cannot be connected to or is refused by the network guard. Every data
 * connection goes through the guard (basic-ftp's own strategies connect a bare socket). basic-ftp
 * then sends the transfer command and streams over the data connection set here.
 */
export function passiveTransfer(mode: PassiveMode, network: NetworkPolicy, pinned: string | undefined): TransferStrategy {
  return async (ftp) => {
    const commands = commandsToTry(mode, ftp);
    const refusals = new Map<PassiveCommand, unknown>();
    for (const command of commands) {
      const answer = await askForPassive(ftp, command);
      if (answer instanceof FTPError) {
        refusals.set(command, answer);
        continue;
      }
      const target = command === 'EPSV' ? epsvTarget(answer.message, ftp) : pasvTarget(answer.message, ftp);
      if (!target) {
        refusals.set(command, new Error(`unreadable answer: ${answer.message}`));
        continue;
      }
      try {
        await openDataConnection(ftp, target, network, pinned);
      } catch (error) {
        const elsewhere = command === 'PASV' && target.host !== controlAddress(ftp) && command !== commands.at(-1);
        if (!elsewhere) throw error;
        refusals.set(command, error);
        continue;
      }
      mode.working = command;
      if (mode.restartAt !== undefined) {
        const offset = mode.restartAt;
        mode.restartAt = undefined;
        await ftp.request(`REST ${offset}`);
      }
      return answer;
    }
    throw new PassiveModeRefusedError(refusals);
  };
}
