import type { IncomingHttpHeaders } from 'node:http';

/** An HTTP/1.1 answer's status line and headers, as Node's client would give them. */
export interface ResponseHead {
  /** `1.0` or `1.1`, as Node's `IncomingMessage.httpVersion`. */
  readonly httpVersion: string;
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Lower-case names; a repeated header's values joined with ', ' (`set-cookie` as a list). */
  readonly headers: IncomingHttpHeaders;
}

/** How the body after a head ends (RFC 9112 §6.3). */
export type BodyFraming = { readonly kind: 'length'; readonly length: number } | { readonly kind: 'chunked' } | { readonly kind: 'close' };

export class MalformedResponseError extends Error {
  public readonly code = 'HPE_INVALID_RESPONSE';
}

const statusLine = /^HTTP\/(1\.[01]) (\d{3})(?: (.*))?$/;
const headerLine = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/**
 * Parses a head (the text before its empty line), as strictly as Node's parser: a line that is
 * not a header, a folded line, or control characters in a value fail it, so a server cannot smuggle
 * a second answer or a header into what the service reads.
 */
export function parseResponseHead(text: string): ResponseHead {
  const [first = '', ...lines] = text.split('\r\n');
  const status = statusLine.exec(first);
  if (!status) throw new MalformedResponseError(`not an HTTP/1.1 status line: '${first.slice(0, 100)}'`);
  const headers: Record<string, string | string[]> = {};
  for (const line of lines) {
    const header = headerLine.exec(line);
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    if (!header || /[\0-\x08\x0a-\x1f\x7f]/.test(header[2]!)) throw new MalformedResponseError(`not a header line: '${line.slice(0, 100)}'`);
    const name = header[1]!.toLowerCase();
    const value = header[2]!;
    const before = headers[name];
    if (name === 'set-cookie') headers[name] = [...[before ?? []].flat(), value];
    else headers[name] = before === undefined ? value : `${String(before)}, ${value}`;
  }
  return { httpVersion: status[1]!, statusCode: Number(status[2]), statusMessage: status[3] ?? '', headers };
}

/**
 * Where the body of an answer to a GET ends: no body for 1xx, 204 and 304; chunked when the last
 * transfer coding is chunked; else its one Content-Length (values that disagree fail it, as a
 * smuggling attempt would); else the connection's close.
 */
export function bodyFraming(head: ResponseHead): BodyFraming {
  const { statusCode, headers } = head;
  if (statusCode < 200 || statusCode === 204 || statusCode === 304) return { kind: 'length', length: 0 };
  const codings = headers['transfer-encoding'];
  if (codings !== undefined) {
    if (/(?:^|,)\s*chunked\s*$/i.test(codings)) return { kind: 'chunked' };
    return { kind: 'close' };
  }
  const lengths = headers['content-length'];
  if (lengths === undefined) return { kind: 'close' };
  const values = new Set(lengths.split(',').map((value) => value.trim()));
  const [length] = values;
  if (values.size !== 1 || !/^\d{1,15}$/.test(length ?? '')) throw new MalformedResponseError(`not a Content-Length: '${lengths.slice(0, 100)}'`);
  return { kind: 'length', length: Number(length) };
}

/**
 * Whether the connection may carry another request after this answer (RFC 9112 §9.3): over
 * HTTP/1.1 unless the answer says `Connection: close`, over HTTP/1.0 only when it says `keep-alive`.
 */
export function connectionPersists(head: ResponseHead): boolean {
  const options = (head.headers.connection ?? '').toLowerCase().split(',').map((option) => option.trim());
  return head.httpVersion === '1.1' ? !options.includes('close') : options.includes('keep-alive');
}
