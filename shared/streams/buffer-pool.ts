/**
 * Part buffers handed out and taken back, so a long upload reuses the same few buffers instead of
 * allocating one per part and leaving the garbage collector to find them: memory stays at the
 * parts in flight, whatever the file's size.
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private kept = 0;

  /** @param keep buffers kept at most; more given back are left to the garbage collector */
  public constructor(private readonly keep = Number.POSITIVE_INFINITY) {}

  public take(size: number): Buffer {
    const buffer = this.free.get(size)?.pop();
    if (buffer === undefined) return Buffer.allocUnsafe(size);
    this.kept -= 1;
    return buffer;
  }

  /** Returns `buffer` (a whole buffer that `take` gave) for reuse; its contents are overwritten. */
  public give(buffer: Buffer): void {
    if (this.kept >= this.keep) return;
    this.kept += 1;
    const list = this.free.get(buffer.length) ?? [];
    list.push(buffer);
    this.free.set(buffer.length, list);
  }
}
