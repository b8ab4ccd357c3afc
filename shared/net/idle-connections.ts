import type { OnReadOpts, Socket } from 'node:net';

/** Where a connection's socket reads land and are taken; the GET reading from it sets its own. */
export type ReadTarget = Required<Pick<OnReadOpts, 'callback'>> & { readonly buffer: () => Uint8Array };

/**
 * A socket whose reads go to whichever GET holds it: `onread` is fixed when a socket is made, so
 * it points here, and each GET in turn sets `target`.
 */
export class ReadingSocket {
  public target: ReadTarget | undefined;
  public readonly onread: OnReadOpts = {
    buffer: () => this.target?.buffer() ?? idleBuffer,
    callback: (read, buffer) => this.target?.callback(read, buffer) ?? unexpectedBytes(this),
  };
  public readonly socket: Socket;

  /** @param open makes the socket, its reads landing through `onread` */
  public constructor(open: (onread: OnReadOpts) => Socket) {
    this.socket = open(this.onread);
  }
}

/** Where bytes land that a server sends to a connection no GET holds. */
const idleBuffer = new Uint8Array(64);

/** Bytes no request asked for: the connection no longer knows where an answer starts. */
function unexpectedBytes(reading: ReadingSocket): boolean {
  reading.socket.destroy();
  return false;
}

/**
 * How long a connection is kept between GETs at most: under the 5 s after which Node's servers
 * (and many others) close an idle one, so a kept connection is rarely found closed when taken.
 */
const idleMs = 4000;
/** Connections kept per server: twice the parts a delivery reads at once (four). */
const keptPerServer = 8;

interface IdleConnection {
  readonly reading: ReadingSocket;
  readonly until: number;
  readonly forget: () => void;
}

/** Idle connections by the connect function that made them (its network policy) and by server. */
const idle = new WeakMap<object, Map<string, IdleConnection[]>>();

/** An idle connection to `server` made by `maker`, taken out of the pool; none when none is open. */
export function takeIdle(maker: object, server: string): ReadingSocket | undefined {
  const list = idle.get(maker)?.get(server);
  for (let kept = list?.pop(); kept !== undefined; kept = list?.pop()) {
    kept.forget();
    const { socket } = kept.reading;
    if (!socket.destroyed && socket.readyState === 'open' && Date.now() < kept.until) {
      socket.ref();
      return kept.reading;
    }
    socket.destroy();
  }
  return undefined;
}

/**
 * Keeps a connection whose last answer was read to its end for the next GET to the same server,
 * for at most `keepMs` (the server's Keep-Alive timeout less a second, when it gives one). It
 * does not hold the process open, and a close, an error or a byte while it waits ends it.
 */
export function keepIdle(maker: object, server: string, reading: ReadingSocket, keepMs = idleMs): void {
  const { socket } = reading;
  reading.target = undefined;
  const servers = idle.get(maker) ?? new Map<string, IdleConnection[]>();
  idle.set(maker, servers);
  const list = servers.get(server) ?? [];
  servers.set(server, list);
  if (list.length >= keptPerServer || keepMs <= 0) {
    socket.destroy();
    return;
  }
  const end = (): void => {
    socket.destroy();
  };
  const timer = setTimeout(end, keepMs).unref();
  const kept: IdleConnection = {
    reading,
    until: Date.now() + keepMs,
    forget: () => {
      clearTimeout(timer);
      socket.off('close', drop).off('end', end).off('error', end);
      const at = list.indexOf(kept);
      if (at !== -1) list.splice(at, 1);
    },
  };
  const drop = (): void => kept.forget();
  socket.once('close', drop).once('end', end).on('error', end);
  socket.unref();
  list.push(kept);
}

/**
 * How long a server lets a connection wait idle, from its `Keep-Alive: timeout=N` (seconds), less
 * a second so it is not closed as it is taken; undefined when it does not say.
 */
export function serverKeepAliveMs(keepAlive: string | undefined): number | undefined {
  const timeout = /(?:^|[,\s])timeout=(\d{1,6})\b/i.exec(keepAlive ?? '');
  return timeout ? Math.min(idleMs, Number(timeout[1]) * 1000 - 1000) : undefined;
}
