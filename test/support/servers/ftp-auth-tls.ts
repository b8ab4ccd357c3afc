import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContextOptions } from 'node:tls';

/** What of ftp-srv's connection the AUTH handler uses (it has no type declarations for these). */
interface FtpSrvConnection {
  commandSocket: Socket;
  secure: boolean;
  readonly server: { readonly options: { readonly tls?: SecureContextOptions | false } };
  reply(code: number): Promise<unknown>;
}

interface CommandRegistration {
  handler: (this: FtpSrvConnection, context: { command: { arg: string | null } }) => unknown;
}

/**
 * ftp-srv answers AUTH TLS with 234 and wraps the control connection in TLS only once the answer's
 * promise settles, a setImmediate later (bluebird): a client in another thread that is quick to
 * send its ClientHello has it read as a plain command, answered "502 Command not allowed", and fails
 * its handshake on those bytes (a scratch run: 43 of 300 logins from a worker thread). The
 * replacement writes the 234 and wraps in one synchronous step, as a server reading from its socket
 * only when it asks (vsftpd) does, so nothing can be read in between.
 */
function authTls(this: FtpSrvConnection, { command }: { command: { arg: string | null } }): unknown {
  if (command.arg?.toUpperCase() !== 'TLS') return this.reply(504);
  const tls = this.server.options.tls;
  if (!tls) return this.reply(502);
  if (this.secure) return this.reply(202);
  const plain = this.commandSocket;
  plain.write('234 Honored\r\n');
  const secure = new TLSSocket(plain, { isServer: true, secureContext: createSecureContext(tls) });
  // ftp-srv's listeners stay on the plain socket (as its own handler arranges): they hear the TLS side.
  for (const event of ['data', 'timeout', 'end', 'close', 'drain', 'error']) {
    secure.on(event, (...args: unknown[]) => plain.emit(event, ...args));
  }
  this.commandSocket = secure;
  this.secure = true;
  return undefined;
}

let installed = false;

/** Puts `authTls` in ftp-srv's command registry (shared by every ftp-srv in the process), once. */
export function installSameTickAuthTls(): void {
  if (installed) return;
  const registry = createRequire(import.meta.url)('ftp-srv/src/commands/registry.js') as Record<string, CommandRegistration>;
  registry['AUTH']!.handler = authTls;
  installed = true;
}
