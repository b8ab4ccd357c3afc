import { createHmac } from 'node:crypto';

/** A request about to be signed: its method, URL (path and query as sent) and headers. */
export interface RequestToSign {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
}

/** The standard headers the string to sign lists, in its order. */
const signedStandardHeaders = [
  'content-encoding',
  'content-language',
  'content-length',
  'content-md5',
  'content-type',
  'date',
  'if-modified-since',
  'if-match',
  'if-none-match',
  'if-unmodified-since',
  'range',
] as const;

/**
 * The service sorts `x-ms-*` names as .NET's culture-aware comparison does, where `_` comes before
 * digits; plain code points put it after them. Names here are lower-case letters, digits, `-` and
 * (in metadata names) `_`, with hyphens in the same places up to where two names differ, so
 * mapping `_` to `/` (between `-` and `0`) gives the service's order.
 */
function serviceOrder(name: string): string {
  return name.replaceAll('_', '/');
}

/** Values as the service reads them: HTTP drops the whitespace around a header value, and nothing else. */
function canonicalizedHeaders(headers: ReadonlyMap<string, string>): string {
  return [...headers.keys()]
    .filter((name) => name.startsWith('x-ms-'))
    .sort((a, b) => (serviceOrder(a) < serviceOrder(b) ? -1 : 1))
    .map((name) => `${name}:${(headers.get(name) ?? '').trim()}\n`)
    .join('');
}

/** `/<account><path>` and the query parameters, each `\nname:value`, names lower-case and sorted. */
function canonicalizedResource(account: string, url: URL): string {
  const parameters = new Map<string, string[]>();
  for (const [name, value] of url.searchParams) {
    const lower = name.toLowerCase();
    parameters.set(lower, [...(parameters.get(lower) ?? []), value]);
  }
  const query = [...parameters.keys()]
    .sort()
    .map((name) => `\n${name}:${(parameters.get(name) ?? []).sort().join(',')}`)
    .join('');
  return `/${account}${url.pathname || '/'}${query}`;
}

/**
 * The `Authorization` header of a request signed with the account key (Shared Key, service
 * version 2015-02-21 and later: a zero Content-Length is signed as empty). The request must
 * already carry `x-ms-date` and every header it will be sent with.
 *
 * @example
 * headers.authorization = sharedKeyAuthorization('acme', key, { method: 'PUT', url, headers });
 */
export function sharedKeyAuthorization(account: string, key: Buffer, request: RequestToSign): string {
  const headers = new Map(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  const standard = signedStandardHeaders.map((name) => {
    const value = headers.get(name) ?? '';
    return name === 'content-length' && value === '0' ? '' : value;
  });
  const stringToSign = [request.method.toUpperCase(), ...standard].join('\n') + '\n' + canonicalizedHeaders(headers) + canonicalizedResource(account, request.url);
  return `SharedKey ${account}:${createHmac('sha256', key).update(stringToSign, 'utf8').digest('base64')}`;
}
