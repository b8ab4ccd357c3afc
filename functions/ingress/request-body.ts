import { maxRequestBodyBytes } from '../../shared/contract/limits.ts';
import { unkeptTextError } from '../../shared/contract/unkept-text.ts';
import { ValidationError } from '../../shared/errors.ts';

/** A body that is no request at all: too large, or not JSON. The API answers it with `status` and `code`. */
export class UnreadableBodyError extends ValidationError {
  public readonly status: number;
  public readonly code: string;
  /** What is wrong, naming the body as its door does. */
  public readonly detail: string;

  private constructor(status: number, code: string, detail: string, cause?: unknown) {
    super([{ path: '', message: detail }]);
    if (cause !== undefined) this.cause = cause;
    this.name = 'UnreadableBodyError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }

  public static tooLarge(what: string): UnreadableBodyError {
    return new UnreadableBodyError(413, 'request_too_large', `the ${what} must be at most ${maxRequestBodyBytes} bytes`);
  }

  public static notJson(what: string, cause?: unknown): UnreadableBodyError {
    return new UnreadableBodyError(400, 'invalid_json', `the ${what} is not valid JSON`, cause);
  }
}

const byteOrderMark = '\uFEFF';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The text of a body that came as bytes. JSON is UTF-8 (RFC 8259): other bytes are refused, not
 * read as U+FFFD, which would put a file name or a password other than the one sent in the job.
 */
export function bodyText(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw UnreadableBodyError.notJson(what, error);
  }
}

/**
 * The request in a body, read the same way at every door (`what` names the body in the errors:
 * `request body`, `message body`, `manifest`). At most {@link maxRequestBodyBytes}: a larger one
 * could make a job's item or a delivery message too large to write, failing after the door took
 * it. JSON, after a byte order mark if there is one: RFC 8259 lets a reader ignore it, Windows
 * editors write it, and S3's text decoding drops it anyway. And an object, as a request is, holding
 * nothing a schema would not see as sent (see {@link unkeptTextError}).
 */
export function requestIn(body: string, what: string): Record<string, unknown> {
  if (Buffer.byteLength(body) > maxRequestBodyBytes) throw UnreadableBodyError.tooLarge(what);
  let request: unknown;
  try {
    request = JSON.parse(body.startsWith(byteOrderMark) ? body.slice(byteOrderMark.length) : body);
  } catch (error) {
    throw UnreadableBodyError.notJson(what, error);
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new ValidationError([{ path: '', message: `the ${what} must be a JSON object` }]);
  }
  const unkept = unkeptTextError(request);
  if (unkept) throw new ValidationError([unkept]);
  return request as Record<string, unknown>;
}
