import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { posix } from 'node:path';

/**
 * A reply that replaces the normal answer to a command; a function may decide per call (undefined:
 * answer normally). An empty reply is silence: the command is never answered.
 */
export type ScriptedReply = string | ((argument: string) => string | undefined);

export interface ScriptedFtpServerOptions {
  /** Replies by command verb (`STOR`, `PASV`…; `GREETING` for the first line), instead of the normal ones. */
  readonly replies?: Readonly<Record<string, ScriptedReply>>;
  /** The address PASV advertises. @default '127.0.0.1' */
  readonly passiveAddress?: string;
  /** Where passive data connections are accepted. @default '127.0.0.1' */
  readonly dataHost?: string;
  /** What FEAT lists. @default ['SIZE', 'UTF8'] */
  readonly features?: readonly string[];
}

/**
 * A plain FTP server on 127.0.0.1 that speaks just enough of RFC 959, 2428 and 3659 for uploads
 * (login, FEAT, MKD, SIZE, PASV/EPSV, REST, STOR/APPE, RNFR/RNTO, DELE), keeps files in memory,
 * records every command, and answers any command as a test scripts it: for the replies and the
 * passive addresses real servers give that ftp-srv cannot be made to give (552, 421, a NAT'd
 * PASV address…).
 */
export interface ScriptedFtpServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Every command received, in order (`PASS ***` for the password). */
  readonly commands: string[];
  /** Files by absolute path. */
  readonly files: Map<string, Buffer>;
  /** The local address and port of every data connection accepted (where the client connected). */
  readonly dataConnections: { readonly address: string; readonly port: number }[];
  close(): Promise<void>;
}

/** One passive listener, waiting for the data connection of the next transfer. */
class PassiveListener {
  private readonly server: Server;
  private readonly accepted: Promise<Socket>;

  public constructor(host: string, onAccept: (socket: Socket) => void) {
    this.server = createServer();
    this.accepted = new Promise((resolve) => {
      this.server.once('connection', (socket) => {
        onAccept(socket);
        resolve(socket);
        this.server.close();
      });
    });
    this.server.listen(0, host);
  }

  public async port(): Promise<number> {
    if (!this.server.listening) await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  /** The data connection's bytes, up to its end. */
  public async receive(): Promise<Buffer> {
    const socket = await this.accepted;
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  public close(): void {
    this.server.close();
  }
}

export async function startScriptedFtpServer(options: ScriptedFtpServerOptions = {}): Promise<ScriptedFtpServer> {
  const user = 'scripted';
  const password = 'scripted-password';
  const commands: string[] = [];
  const files = new Map<string, Buffer>();
  const folders = new Set<string>(['/']);
  const dataConnections: { address: string; port: number }[] = [];
  const sockets = new Set<Socket>();
  const features = options.features ?? ['SIZE', 'UTF8'];

  function session(socket: Socket): void {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const reply = (line: string): void => {
      if (socket.writable) socket.write(`${line}\r\n`);
    };
    let passive: PassiveListener | undefined;
    let restartAt = 0;
    let renaming: string | undefined;

    const scripted = (verb: string, argument: string): string | undefined => {
      const script = options.replies?.[verb];
      return typeof script === 'function' ? script(argument) : script;
    };

    async function openPassive(): Promise<number> {
      passive?.close();
      passive = new PassiveListener(options.dataHost ?? '127.0.0.1', (data) =>
        dataConnections.push({ address: data.localAddress ?? '', port: data.localPort ?? 0 }),
      );
      return passive.port();
    }

    async function store(verb: string, path: string): Promise<void> {
      const listener = passive;
      passive = undefined;
      if (!listener) return reply('425 Use PASV or EPSV first');
      reply('150 Ready to receive');
      const bytes = await listener.receive();
      const existing = files.get(path) ?? Buffer.alloc(0);
      if (verb === 'APPE') files.set(path, Buffer.concat([existing, bytes]));
      else if (restartAt > 0) files.set(path, Buffer.concat([existing.subarray(0, restartAt), bytes]));
      else files.set(path, bytes);
      restartAt = 0;
      reply('226 Transfer complete');
    }

    async function handle(verb: string, argument: string): Promise<void> {
      const override = scripted(verb, argument);
      if (override !== undefined) {
        if (override !== '') reply(override);
        if (/^421/.test(override)) socket.end();
        return;
      }
      const path = posix.resolve('/', argument);
      switch (verb) {
        case 'USER':
          return reply('331 Password required');
        case 'PASS':
          return reply(argument === password ? '230 Logged in' : '530 Login incorrect');
        case 'FEAT':
          return reply(['211-Features:', ...features.map((feature) => ` ${feature}`), '211 End'].join('\r\n'));
        case 'OPTS':
        case 'TYPE':
        case 'NOOP':
          return reply('200 OK');
        case 'PWD':
          return reply('257 "/" is the current directory');
        case 'QUIT':
          reply('221 Bye');
          socket.end();
          return;
        case 'MKD':
          if (folders.has(path)) return reply('550 Folder exists');
          if (!folders.has(posix.dirname(path))) return reply('550 No such folder');
          folders.add(path);
          return reply(`257 "${path}" created`);
        case 'SIZE': {
          const file = files.get(path);
          return reply(file ? `213 ${file.length}` : '550 No such file');
        }
        case 'EPSV':
          return reply(`229 Entering Extended Passive Mode (|||${await openPassive()}|)`);
        case 'PASV': {
          const port = await openPassive();
          const address = (options.passiveAddress ?? '127.0.0.1').replaceAll('.', ',');
          return reply(`227 Entering Passive Mode (${address},${Math.floor(port / 256)},${port % 256})`);
        }
        case 'REST':
          restartAt = Number(argument);
          return reply(`350 Restarting at ${restartAt}`);
        case 'STOR':
        case 'APPE':
          if (!folders.has(posix.dirname(path))) return reply('550 No such folder');
          return store(verb, path);
        case 'RNFR':
          renaming = path;
          return reply(files.has(path) ? '350 Ready for RNTO' : '550 No such file');
        case 'RNTO': {
          const from = renaming;
          renaming = undefined;
          if (from === undefined || !files.has(from)) return reply('503 RNFR first');
          files.set(path, files.get(from)!);
          files.delete(from);
          return reply('250 Renamed');
        }
        case 'DELE':
          return reply(files.delete(path) ? '250 Deleted' : '550 No such file');
        default:
          return reply('502 Command not implemented');
      }
    }

    let pending = '';
    let queue: Promise<unknown> = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let end = pending.indexOf('\r\n'); end >= 0; end = pending.indexOf('\r\n')) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const [verb = '', ...rest] = line.split(' ');
        const argument = rest.join(' ');
        commands.push(verb.toUpperCase() === 'PASS' ? 'PASS ***' : line);
        // One command at a time, as a server's control connection answers them.
        queue = queue.then(() => handle(verb.toUpperCase(), argument)).catch(() => socket.destroy());
      }
    });
    const greeting = scripted('GREETING', '') ?? '220 Scripted FTP server ready';
    reply(greeting);
    if (/^421/.test(greeting)) socket.end();
  }

  const control = createServer(session);
  control.listen(0, '127.0.0.1');
  await once(control, 'listening');
  return {
    host: '127.0.0.1',
    port: (control.address() as AddressInfo).port,
    user,
    password,
    commands,
    files,
    dataConnections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => control.close(resolve));
    },
  };
}
