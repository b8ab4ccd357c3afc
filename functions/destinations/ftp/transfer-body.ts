import { Readable } from 'node:stream';

/**
 * The bytes of one transfer, as basic-ftp reads them. The source is opened only when the server
 * is ready for the data, so a refused command has read nothing and another may be tried. The
 * bytes are counted (to compare with what the server says it holds). When the source fails or the
 * attempt must stop, the transfer is ended early rather than broken: the server then finishes
 * writing and confirms it before the attempt gives up, and the next attempt reads a size that no
 * longer changes under it.
 */
export class TransferBody extends Readable {
  public bytes = 0;
  /** Why the transfer was ended early, if it was. */
  public failure: unknown;
  private source: Readable | undefined;
  private started = false;
  private finished = false;
  private readonly onAbort = (): void => this.stop(this.signal.reason);

  public constructor(
    private readonly open: () => Promise<Readable>,
    private readonly signal: AbortSignal,
  ) {
    super();
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Whether the source was opened: the server took the transfer command. */
  public get opened(): boolean {
    return this.started;
  }

  public override _read(): void {
    if (this.source) {
      this.source.resume();
      return;
    }
    if (this.started) return;
    this.started = true;
    if (this.signal.aborted) {
      this.stop(this.signal.reason);
      return;
    }
    this.open().then(
      (source) => this.attach(source),
      (error: unknown) => this.stop(error),
    );
  }

  /** Ends the transfer after what has passed so far, remembering why. */
  public stop(reason: unknown): void {
    if (this.failure !== undefined || this.finished) return;
    this.failure = reason ?? new Error('the transfer was stopped');
    this.source?.destroy();
    this.finish();
  }

  public override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.source?.destroy();
    callback(error);
  }

  private attach(source: Readable): void {
    if (this.failure !== undefined || this.destroyed) {
      source.destroy();
      return;
    }
    this.source = source;
    source.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      if (!this.push(chunk)) source.pause();
    });
    source.once('end', () => this.finish());
    source.once('error', (error) => this.stop(error));
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.push(null);
  }
}
