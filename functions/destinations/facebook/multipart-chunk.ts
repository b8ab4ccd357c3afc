import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** A `multipart/form-data` body: its content type, length, and the stream that sends it. */
export interface MultipartBody {
  readonly contentType: string;
  readonly length: number;
  readonly stream: Readable;
}

/**
 * A form of text fields and one file part, sent without copying the file's bytes: the parts'
 * headers are written around the buffer as it is. (`FormData` with a `Blob` copies each chunk once
 * more and leaves the copies to the garbage collector, which on a long upload grows memory.)
 * Field names and values here are the flow's own ASCII, never the caller's text.
 */
export function multipartChunk(fields: Readonly<Record<string, string>>, file: { readonly field: string; readonly bytes: Buffer }): MultipartBody {
  const boundary = `upload-destinations-${randomBytes(12).toString('hex')}`;
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const head = Buffer.from(
    `${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="chunk"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: head.length + file.bytes.length + tail.length,
    stream: Readable.from([head, file.bytes, tail], { objectMode: false }),
  };
}
