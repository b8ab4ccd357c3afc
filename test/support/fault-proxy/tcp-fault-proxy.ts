import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { resetSocket } from './http-fault-proxy.ts';
import { relay, type ByteFault, type SlowLink } from './relay.ts';
import { RuleBook, type ArmedRule } from './rules.ts';

/** A connection as the proxy sees it open: its sequence number, and the port it came in on. */
export interface ConnectionHead {
  readonly id: number;
  /** The proxy's own port, or one of `alsoPorts`. */
  readonly port: number;
}

/** What the proxy does to one connection. */
export type TcpFault =
  /** Resets or stalls the connection once `afterBytes` have passed one way: `up` is client to server. */
  | ({ readonly direction: 'up' | 'down' } & ByteFault)
  /** Holds the connection back before connecting it to the server. */
  | { readonly kind: 'delay'; readonly milliseconds: number }
  /** Passes the client's bytes on over a slow link (shared by every connection given the same link). */
  | { readonly kind: 'slow'; readonly link: SlowLink };

export type TcpFaultRule = ArmedRule<ConnectionHead, TcpFault>;

/** One connection through the proxy. */
export interface ProxiedConnection extends ConnectionHead {
  readonly startedAt: number;
  endedAt: number | undefined;
  /** Bytes passed from the client to the server. */
  bytesUp: number;
  bytesDown: number;
  fault: string | undefined;
  /** Whether the fault was acted out (a connection may close before its byte offset). */
  faultFired: boolean;
  /** When a stall fault stopped it (from then on the server cannot tell whether its client is still there). */
  stalledAt: number | undefined;
  /** When the client's function environment ended while this was open (see the HTTP proxy's exchanges). */
  clientGoneAt: number | undefined;
}

export interface TcpFaultProxy {
  readonly host: string;
  /** Its own port, passed on to the server's `upstreamPort`. */
  readonly port: number;
  readonly connections: ProxiedConnection[];
  readonly rules: RuleBook<ConnectionHead, TcpFault>;
  arm(rule: TcpFaultRule): void;
  /** Connections open now. */
  open(): number;
  /** Notes that every client with a connection open now is gone (its function environment ended). */
  clientsGone(): void;
  /** From now on, no server byte reaches a client (on every connection, open or new): the server goes silent. */
  silenceServer(): void;
  /** Resets every connection open now, as a server that goes down takes its connections with it (kept ones included). */
  resetOpen(): void;
  close(): Promise<void>;
}

export interface TcpFaultProxyOptions {
  /** The loopback address it listens on. @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Ports it listens on as well (on `host`), each passed on to the same port of the server on
   * 127.0.0.1: an FTP server's passive data ports, whose connections then share the proxy's
   * records and faults with the control connection's. @default none
   */
  readonly alsoPorts?: readonly number[];
  /** How long a stall without end lasts before the proxy cuts it. @default 30000 */
  readonly serverIdleMs?: number;
}

/**
 * A TCP proxy on loopback in front of one server (SSH, say, whose bytes are opaque), with faults a
 * scenario arms per connection: a reset or a stall at a byte offset either way, or a delay before
 * connecting. A byte-offset fault whose connection closes before that offset is put back for the
 * next connection, so it always hits an upload that is long enough. A stall without end is cut
 * after `serverIdleMs`, as a server's idle timeout would.
 */
export async function startTcpFaultProxy(upstreamPort: number, options: TcpFaultProxyOptions = {}): Promise<TcpFaultProxy> {
  const host = options.host ?? '127.0.0.1';
  const serverIdleMs = options.serverIdleMs ?? 30_000;
  const connections: ProxiedConnection[] = [];
  const rules = new RuleBook<ConnectionHead, TcpFault>();
  const sockets = new Set<Socket>();
  let sequence = 0;
  let silent = false;

  /** Takes a client that came in on `port`, to the server's `target` port. */
  const accept = (client: Socket, port: number, target: number): void => {
    const record: ProxiedConnection = { id: (sequence += 1), port, startedAt: Date.now(), endedAt: undefined, bytesUp: 0, bytesDown: 0, fault: undefined, faultFired: false, stalledAt: undefined, clientGoneAt: undefined };
    connections.push(record);
    sockets.add(client);
    client.on('error', () => undefined);
    client.pause();
    const taken = rules.take(record);
    record.fault = taken?.label;
    const fault = taken?.fault;
    const link = (): void => {
      const upstream = connect({ host: '127.0.0.1', port: target });
      sockets.add(upstream);
      const cut = (): void => {
        resetSocket(client);
        resetSocket(upstream);
      };
      const onFault = (fired: ByteFault): void => {
        record.faultFired = true;
        if (fired.kind === 'stall') record.stalledAt = Date.now();
      };
      const byteFault = fault && 'direction' in fault ? fault : undefined;
      const stops = [
        relay(client, upstream, {
          onBytes: (bytes) => (record.bytesUp += bytes),
          fault: byteFault?.direction === 'up' ? byteFault : undefined,
          onFault,
          cut,
          serverIdleMs,
          ...(fault?.kind === 'slow' ? { link: fault.link } : {}),
        }),
        relay(upstream, client, {
          onBytes: (bytes) => (record.bytesDown += bytes),
          fault: byteFault?.direction === 'down' ? byteFault : undefined,
          onFault,
          cut,
          serverIdleMs,
          silenced: () => silent,
        }),
      ];
      const finish = (): void => {
        for (const stop of stops) stop();
        if (record.endedAt === undefined) {
          record.endedAt = Date.now();
          if (byteFault && !record.faultFired) taken?.giveBack();
        }
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      upstream.on('error', () => undefined);
      for (const socket of [client, upstream]) socket.once('close', finish);
      client.resume();
    };
    if (fault?.kind === 'delay') setTimeout(link, fault.milliseconds);
    else link();
  };
  const servers: Server[] = [];
  const listen = async (port: number, target: number): Promise<number> => {
    const server = createServer((client) => accept(client, (server.address() as AddressInfo).port, target));
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  };
  let port: number;
  try {
    port = await listen(0, upstreamPort);
    for (const also of options.alsoPorts ?? []) await listen(also, also);
  } catch (error) {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    throw error;
  }
  return {
    host,
    port,
    connections,
    rules,
    arm: (rule) => rules.arm(rule),
    open: () => connections.filter((connection) => connection.endedAt === undefined).length,
    clientsGone: () => {
      const now = Date.now();
      for (const connection of connections) if (connection.endedAt === undefined) connection.clientGoneAt ??= now;
    },
    silenceServer: () => {
      silent = true;
    },
    resetOpen: () => {
      for (const socket of sockets) resetSocket(socket);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}
