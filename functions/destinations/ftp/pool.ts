import { createHash } from 'node:crypto';
import type { NetworkPolicy } from '../../../shared/destination/index.ts';
import type { FtpConnection, FtpServer } from './connection.ts';

export interface PoolSettings {
  /**
   * A kept connection idle longer than this is closed, never reused: servers and NAT gateways drop
   * idle connections silently, and a function instance may have been frozen meanwhile.
   */
  readonly maxIdleMilliseconds: number;
  /** Idle connections kept per server and login. */
  readonly maxIdlePerServer: number;
  /** How long a kept connection may take to answer NOOP before it is taken for dead. */
  readonly checkMilliseconds: number;
}

export const defaultPoolSettings: PoolSettings = { maxIdleMilliseconds: 30_000, maxIdlePerServer: 4, checkMilliseconds: 5_000 };

/** A connection lent to one delivery: give it back when done with it, or destroy it. */
export interface Lease {
  readonly connection: FtpConnection;
  /** It was kept from an earlier delivery (and answered NOOP). */
  readonly reused: boolean;
  /** Keeps it for the next delivery to the same server and login (a closed one is dropped). */
  release(): void;
  /** Closes it: its state is unknown after a failure. */
  destroy(): void;
}

interface IdleConnection {
  readonly connection: FtpConnection;
  readonly since: number;
}

/**
 * Logged-in connections kept across the deliveries of one function instance, per server, login
 * and network policy, so a burst of deliveries to one server logs in once. A kept connection is
 * checked with NOOP before it is lent; a dead one is replaced by a new connection, never reported
 * as a failure. Idle connections are closed after a while and all of them by {@link close}.
 */
export class FtpConnectionPool {
  private readonly idle = new Map<string, IdleConnection[]>();
  private readonly networkIds = new WeakMap<NetworkPolicy, number>();
  private networkCount = 0;
  private sweeper: NodeJS.Timeout | undefined;

  public constructor(
    private readonly open: (server: FtpServer, network: NetworkPolicy) => Promise<FtpConnection>,
    private readonly settings: PoolSettings = defaultPoolSettings,
  ) {}

  /** A connection to `server`: a kept one that still answers, else a new one. */
  public async acquire(server: FtpServer, network: NetworkPolicy): Promise<Lease> {
    const key = this.keyOf(server, network);
    for (let kept = this.take(key); kept; kept = this.take(key)) {
      if (await this.answers(kept.connection)) return this.lease(key, kept.connection, true);
      kept.connection.client.close();
    }
    return this.lease(key, await this.open(server, network), false);
  }

  /** Closes every kept connection (QUIT). Connections lent out are their delivery's to close. */
  public async close(): Promise<void> {
    clearTimeout(this.sweeper);
    this.sweeper = undefined;
    for (const list of this.idle.values()) for (const { connection } of list) connection.client.close();
    this.idle.clear();
  }

  /** The password is hashed into the key, so no credential sits in clear in it. */
  private keyOf(server: FtpServer, network: NetworkPolicy): string {
    let networkId = this.networkIds.get(network);
    if (networkId === undefined) {
      networkId = this.networkCount;
      this.networkCount += 1;
      this.networkIds.set(network, networkId);
    }
    const identity = [server.hostname, server.port, server.secure, server.certificateFingerprint, server.user, server.password];
    return `${networkId}:${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}`;
  }

  /** The most recently used kept connection that has not idled too long; older ones are closed. */
  private take(key: string): IdleConnection | undefined {
    const list = this.idle.get(key);
    const kept = list?.pop();
    if (list?.length === 0) this.idle.delete(key);
    if (kept && Date.now() - kept.since > this.settings.maxIdleMilliseconds) {
      kept.connection.client.close();
      return this.take(key);
    }
    return kept;
  }

  private async answers(connection: FtpConnection): Promise<boolean> {
    if (connection.client.closed) return false;
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.settings.checkMilliseconds);
    });
    try {
      return await Promise.race([connection.client.send('NOOP').then(
        () => true,
        () => false,
      ), silence]);
    } finally {
      clearTimeout(timer);
    }
  }

  private lease(key: string, connection: FtpConnection, reused: boolean): Lease {
    let settled = false;
    return {
      connection,
      reused,
      release: () => {
        if (settled) return;
        settled = true;
        this.keep(key, connection);
      },
      destroy: () => {
        if (settled) return;
        settled = true;
        connection.client.close();
      },
    };
  }

  private keep(key: string, connection: FtpConnection): void {
    const list = this.idle.get(key) ?? [];
    if (connection.client.closed || list.length >= this.settings.maxIdlePerServer) {
      connection.client.close();
      return;
    }
    list.push({ connection, since: Date.now() });
    this.idle.set(key, list);
    this.sweeper ??= setTimeout(() => this.sweep(), this.settings.maxIdleMilliseconds).unref();
  }

  /** Closes connections that idled too long; runs while any are kept. */
  private sweep(): void {
    this.sweeper = undefined;
    const now = Date.now();
    for (const [key, list] of this.idle) {
      const fresh = list.filter((kept) => {
        const expired = now - kept.since >= this.settings.maxIdleMilliseconds;
        if (expired) kept.connection.client.close();
        return !expired;
      });
      if (fresh.length === 0) this.idle.delete(key);
      else this.idle.set(key, fresh);
    }
    if (this.idle.size > 0) this.sweeper = setTimeout(() => this.sweep(), this.settings.maxIdleMilliseconds).unref();
  }
}
