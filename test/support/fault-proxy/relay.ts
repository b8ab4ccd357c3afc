import type { Readable, Writable } from 'node:stream';

/** What a relay does once `afterBytes` bytes have passed it. */
export type ByteFault =
  /** Cuts the connection: both sides see it break (the client a reset). */
  | { readonly kind: 'reset'; readonly afterBytes: number }
  /**
   * Stops passing bytes on: the side that sends fills its buffers and waits, as against a server
   * that stops reading (or sending). For `milliseconds`, or until either side gives up.
   */
  | { readonly kind: 'stall'; readonly afterBytes: number; readonly milliseconds?: number };

/**
 * A link of limited bandwidth, shared by every transfer given it: a slow network between the
 * functions and a server, so that uploads outlast a function's timeout.
 */
export class SlowLink {
  #freeAt = 0;

  public constructor(public readonly bytesPerSecond: number) {}

  /** How long `bytes` must wait for their turn on the link (and takes it). */
  public delayFor(bytes: number): number {
    const now = Date.now();
    const start = Math.max(now, this.#freeAt);
    this.#freeAt = start + (bytes / this.bytesPerSecond) * 1000;
    return this.#freeAt - now;
  }
}

export interface RelayOptions {
  /** Counts every byte passed on. */
  readonly onBytes?: (bytes: number) => void;
  /** Passes bytes on no faster than this link allows. */
  readonly link?: SlowLink;
  /**
   * Bytes read ahead of what the receiver has taken before the sender is held back (as a reverse
   * proxy buffers a request body). Reading on lets a sender's going away be seen at once: a side that
   * stops reading sees no end of stream. @default 0
   */
  readonly readAheadBytes?: number;
  /** Once this says so, passes nothing more on, for good: a peer that goes silent on demand. */
  readonly silenced?: () => boolean;
  /**
   * How long a stall without end lasts before the connection is cut, as the server's own idle
   * timeout would. Needed because a side that stops reading cannot notice that its peer gave up
   * (a paused socket reads no end of stream), so without it the server would wait for ever.
   * @default never
   */
  readonly serverIdleMs?: number;
  readonly fault?: ByteFault;
  /** Called when the fault fires, before it acts (a reset's `cut` is called right after). */
  readonly onFault?: (fault: ByteFault) => void;
  /** Breaks both connections, for a reset. */
  readonly cut: () => void;
}

/**
 * Passes `from`'s bytes on to `to` with backpressure, counting them, and acts out `fault` at its
 * byte offset: the bytes before it arrive, none after. Returns a function that ends the relay's
 * own timers.
 */
export function relay(from: Readable, to: Writable, options: RelayOptions): () => void {
  let passed = 0;
  let fault = options.fault;
  let stalledUntil: NodeJS.Timeout | undefined;
  let stopIdle = (): void => undefined;
  let held: Buffer[] = [];

  let waiting = 0;
  /** Settles once everything written so far has left for the peer (a reset must not swallow it). */
  let flushed: Promise<void> = Promise.resolve();
  const resumeWhenFree = (): void => {
    if (waiting === 0 && stalledUntil === undefined && !stalled && to.writableLength <= (options.readAheadBytes ?? 0)) from.resume();
  };
  const write = (chunk: Buffer): void => {
    if (chunk.length === 0) return;
    passed += chunk.length;
    options.onBytes?.(chunk.length);
    let written: () => void = () => undefined;
    flushed = new Promise((resolve) => (written = resolve));
    if (!to.write(chunk, () => written()) && to.writableLength > (options.readAheadBytes ?? 0)) {
      from.pause();
      to.once('drain', resumeWhenFree);
    }
    const delay = options.link?.delayFor(chunk.length) ?? 0;
    if (delay > 0) {
      from.pause();
      waiting += 1;
      setTimeout(() => {
        waiting -= 1;
        resumeWhenFree();
      }, delay);
    }
  };

  let stalled = false;
  const onData = (chunk: Buffer): void => {
    if (!stalled && options.silenced?.()) stalled = true;
    if (stalled) {
      held.push(chunk);
      return;
    }
    if (fault === undefined || passed + chunk.length <= fault.afterBytes) {
      write(chunk);
      return;
    }
    const head = chunk.subarray(0, Math.max(0, fault.afterBytes - passed));
    const tail = chunk.subarray(head.length);
    write(head);
    const firing = fault;
    fault = undefined;
    options.onFault?.(firing);
    if (firing.kind === 'reset') {
      from.pause();
      // The bytes before the offset reach the peer, as they would before a connection breaks.
      void flushed.then(() => options.cut());
      return;
    }
    stalled = true;
    held = [tail];
    from.pause();
    if (firing.milliseconds === undefined && options.serverIdleMs !== undefined) {
      const idle = setTimeout(() => options.cut(), options.serverIdleMs);
      idle.unref();
      stopIdle = () => clearTimeout(idle);
    }
    if (firing.milliseconds !== undefined) {
      stalledUntil = setTimeout(() => {
        stalledUntil = undefined;
        stalled = false;
        const released = held;
        held = [];
        for (const piece of released) write(piece);
        resumeWhenFree();
      }, firing.milliseconds);
    }
  };

  from.on('data', onData);
  from.once('end', () => {
    // A stall holds the end back too: the receiver must not learn that the body is complete.
    const finish = (): void => {
      if (to.destroyed) return;
      if (stalled) setTimeout(finish, 50).unref();
      else to.end();
    };
    finish();
  });
  return () => {
    if (stalledUntil) clearTimeout(stalledUntil);
    stopIdle();
  };
}
