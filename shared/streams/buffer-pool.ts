/**
 * Part buffers handed out and taken back, so a long upload reuses the same few buffers instead of
 * allocating one per part and leaving the garbage collector to find them: memory stays at the
 * parts in flight, whatever the file's size.
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();

  public take(size: number): Buffer {
    return this.free.get(size)?.pop() ?? Buffer.allocUnsafe(size);
  }

  /** Returns `buffer` (a whole buffer that `take` gave) for reuse; its contents are overwritten. */
  public give(buffer: Buffer): void {
    const list = this.free.get(buffer.length) ?? [];
    list.push(buffer);
    this.free.set(buffer.length, list);
  }
}
