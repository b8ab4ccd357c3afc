/**
 * Streaming decoder for S3's `aws-chunked` content encoding: `hex-size[;chunk-signature=…]\r\n`,
 * the data, `\r\n`, repeated, then a zero-size chunk and optional trailers (where the AWS SDKs
 * put a checksum they compute while sending). It only walks the framing: data bytes are counted
 * and handed on as sub-arrays, never copied, so the sink stays cheap at any throughput.
 */
export class AwsChunkedDecoder {
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private line = '';
  private remaining = 0;
  private crlfSeen = 0;
  decodedBytes = 0;
  readonly trailers = new Map<string, string>();

  /** Feeds raw body bytes; `onData` receives the decoded payload in order. */
  write(chunk: Buffer, onData?: (data: Buffer) => void): void {
    let index = 0;
    while (index < chunk.length) {
      switch (this.state) {
        case 'size':
        case 'trailer': {
          const newline = chunk.indexOf(0x0a, index);
          const end = newline === -1 ? chunk.length : newline + 1;
          this.line += chunk.toString('latin1', index, end);
          index = end;
          if (this.line.length > 8192) throw new Error('aws-chunked: header line too long');
          if (newline !== -1) this.endLine(this.line.replace(/\r?\n$/, ''));
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, chunk.length - index);
          onData?.(chunk.subarray(index, index + take));
          this.decodedBytes += take;
          this.remaining -= take;
          index += take;
          if (this.remaining === 0) this.state = 'data-end';
          break;
        }
        case 'data-end': {
          const expected = this.crlfSeen === 0 ? 0x0d : 0x0a;
          if (chunk[index] !== expected) throw new Error('aws-chunked: chunk data not followed by CRLF');
          index += 1;
          this.crlfSeen += 1;
          if (this.crlfSeen === 2) {
            this.crlfSeen = 0;
            this.state = 'size';
          }
          break;
        }
        case 'done':
          throw new Error('aws-chunked: bytes after the final chunk');
      }
    }
  }

  /** True once the zero-size chunk and the trailers' closing empty line have been read. */
  get complete(): boolean {
    return this.state === 'done';
  }

  private endLine(line: string): void {
    this.line = '';
    if (this.state === 'size') {
      const size = Number.parseInt(line.split(';')[0] ?? '', 16);
      if (!Number.isFinite(size) || size < 0) throw new Error(`aws-chunked: bad chunk size line '${line}'`);
      if (size === 0) {
        this.state = 'trailer';
      } else {
        this.remaining = size;
        this.state = 'data';
      }
      return;
    }
    if (line === '') {
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`aws-chunked: bad trailer line '${line}'`);
    this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
}
