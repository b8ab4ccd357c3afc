import { randomBytes } from 'node:crypto';
import { pipeline, Transform, type Readable } from 'node:stream';

/** The file part of a form: its field name, the file name it announces, and what it holds. */
export interface FormFile {
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  /** Bytes, when the source tells them: the form's length can then be given up front. */
  readonly size: number | undefined;
}

/** A `multipart/form-data` body whose file part is streamed, never held in memory. */
export interface MultipartForm {
  /** `multipart/form-data; boundary=…` */
  readonly contentType: string;
  /** The whole body's length, when the file's size is known (so no chunked encoding is needed). */
  readonly length: number | undefined;
  /** The body: the fields, then the file's bytes as `file` yields them, then the closing boundary. */
  body(file: Readable): Readable;
}

/**
 * A name or file name inside a quoted Content-Disposition parameter, escaped as browsers do (the
 * HTML standard's multipart/form-data encoding): a quote or a line break becomes its percent code.
 * A backslash is doubled, as a quoted-string needs: parsers (busboy, Go's mime, Django) read `\"`
 * as an escaped quote, so a name ending in one lost its closing quote, and busboy the whole file part.
 * Other characters go as UTF-8, which is what form parsers expect (RFC 7578 forbids `filename*`).
 */
function quoted(name: string): string {
  return `"${name.replaceAll('\\', '\\\\').replaceAll('"', '%22').replaceAll('\r', '%0D').replaceAll('\n', '%0A')}"`;
}

/**
 * A streaming form encoder: the fields (small, known) are written out at once, the file is piped
 * through, and the length is the sum of both when the file's size is known. The file part comes
 * last, after every field, as some receivers (S3's POST policy forms among them) require.
 *
 * @example
 * ```ts
 * const form = multipartForm({ title: 'Welcome' }, { field: 'file', filename: 'a.mp4', contentType: 'video/mp4', size: 1234 });
 * pipeline(form.body(await source.stream()), request); // with content-type form.contentType, content-length form.length
 * ```
 */
export function multipartForm(fields: Readonly<Record<string, string>>, file: FormFile): MultipartForm {
  // 128 random bits: the chance that the file or a field holds this line is negligible.
  const boundary = `upload-destinations-${randomBytes(16).toString('hex')}`;
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(name)}\r\n\r\n${value}\r\n`,
  );
  const head = Buffer.from(
    `${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name=${quoted(file.field)}; filename=${quoted(file.filename)}\r\n` +
      `Content-Type: ${file.contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: file.size === undefined ? undefined : head.length + file.size + tail.length,
    body: (bytes) => framed(head, bytes, tail),
  };
}

/**
 * The file between `head` and `tail`. Its chunks pass through as they come, in the same tick, so
 * a batching writer downstream can gather them (an async generator would hand them on one promise
 * at a time).
 */
function framed(head: Buffer, file: Readable, tail: Buffer): Readable {
  const body = new Transform({
    transform: (chunk: Buffer, _encoding, callback) => callback(null, chunk),
    flush: (callback) => callback(null, tail),
  });
  body.push(head);
  // A failure of the file fails the body; a body torn down (the request aborted) stops the file.
  pipeline(file, body, () => undefined);
  return body;
}
