import { MalformedResponseError } from './response-head.ts';

/** The longest chunk-size or trailer line taken: a line past it is no chunked body. */
const maxLineBytes = 4096;
const chunkSizeLine = /^([0-9a-fA-F]{1,13})[ \t]*(?:;.*)?$/;

/**
 * Decodes a chunked body (RFC 9112 §7.1) where it lies in the buffer it was read into: the data
 * of each call's bytes is moved to the front of them, the framing dropped, so a body is never
 * copied out to be decoded. Trailer fields are read past and dropped.
 */
export class ChunkedBody {
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private line = '';
  /** Data bytes left in the current chunk, or CR LF bytes seen after it. */
  private left = 0;
  /** Bytes that followed the body's end in the call that ended it: another answer's, or none. */
  public bytesPastEnd = 0;

  public get done(): boolean {
    return this.state === 'done';
  }

  /**
   * Decodes `buffer[start, end)`, which follows what earlier calls were given, and answers where
   * the data moved to `buffer[start, …)` ends. Bytes past the body's end are not decoded
   * ({@link bytesPastEnd} counts them).
   */
  public decode(buffer: Buffer, start: number, end: number): number {
    let read = start;
    let written = start;
    while (read < end && this.state !== 'done') {
      if (this.state === 'data') {
        const length = Math.min(this.left, end - read);
        if (written !== read) buffer.copyWithin(written, read, read + length);
        written += length;
        read += length;
        this.left -= length;
        if (this.left === 0) this.state = 'data-end';
      } else if (this.state === 'data-end') {
        if (buffer[read] !== (this.left === 0 ? 0x0d : 0x0a)) throw new MalformedResponseError('a chunk of the body does not end with CR LF');
        read += 1;
        this.left += 1;
        if (this.left === 2) this.state = 'size';
      } else {
        const newline = buffer.indexOf(0x0a, read);
        const lineEnd = newline === -1 || newline >= end ? end : newline;
        this.line += buffer.toString('latin1', read, lineEnd);
        read = lineEnd === end ? end : lineEnd + 1;
        if (this.line.length > maxLineBytes) throw new MalformedResponseError('a chunk-size or trailer line is too long');
        if (lineEnd !== end) this.endLine();
      }
    }
    if (this.state === 'done') this.bytesPastEnd = end - read;
    return written;
  }

  private endLine(): void {
    if (!this.line.endsWith('\r')) throw new MalformedResponseError('a line of the chunked body does not end with CR LF');
    const line = this.line.slice(0, -1);
    this.line = '';
    if (this.state === 'trailer') {
      if (line === '') this.state = 'done';
      return;
    }
    const size = chunkSizeLine.exec(line);
    if (!size) throw new MalformedResponseError(`not a chunk size: '${line.slice(0, 100)}'`);
    this.left = Number.parseInt(size[1]!, 16);
    this.state = this.left === 0 ? 'trailer' : 'data';
  }
}
