import { maxRequestBodyBytes } from '../../shared/contract/limits.ts';
import { ValidationError } from '../../shared/errors.ts';

/** A body that is no request at all: too large, or not JSON. The API answers it with `status` and `code`. */
export class UnreadableBodyError extends ValidationError {
  public readonly status: number;
  public readonly code: string;
  /** What is wrong, naming the body as its door does. */
  public readonly detail: string;

  private constructor(status: number, code: string, detail: string) {
    super([{ path: '', message: detail }]);
    this.name = 'UnreadableBodyError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }

  public static tooLarge(what: string): UnreadableBodyError {
    return new UnreadableBodyError(413, 'request_too_large', `the ${what} must be at most ${maxRequestBodyBytes} bytes`);
  }

  public static notJson(what: string): UnreadableBodyError {
    return new UnreadableBodyError(400, 'invalid_json', `the ${what} is not valid JSON`);
  }
}

const byteOrderMark = '\uFEFF';

/**
 * The request in a body, read the same way at every door (`what` names the body in the errors:
 * `request body`, `message body`, `manifest`). At most {@link maxRequestBodyBytes}: a larger one
 * could make a job's item or a delivery message too large to write, failing after the door took
 * it. JSON, after a byte order mark if there is one: RFC 8259 lets a reader ignore it, Windows
 * editors write it, and S3's text decoding drops it anyway. And an object, as a request is.
 */
export function requestIn(body: string, what: string): Record<string, unknown> {
  if (Buffer.byteLength(body) > maxRequestBodyBytes) throw UnreadableBodyError.tooLarge(what);
  let request: unknown;
  try {
    request = JSON.parse(body.startsWith(byteOrderMark) ? body.slice(byteOrderMark.length) : body);
  } catch {
    throw UnreadableBodyError.notJson(what);
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new ValidationError([{ path: '', message: `the ${what} must be a JSON object` }]);
  }
  return request as Record<string, unknown>;
}
