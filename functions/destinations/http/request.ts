import { basicAuthorization, type DeliverySource } from '../../../shared/destination/index.ts';
import type { RequestBody } from './exchange.ts';
import { multipartForm } from './multipart.ts';
import { isSecretHeader, type HttpDestinationFields } from './schema.ts';

/** What every hop of an upload sends; only the credentials depend on where the hop goes. */
export interface PlannedRequest {
  readonly method: string;
  readonly body?: RequestBody;
  /** The headers of a hop; credentials go only to the url's own origin. */
  headers(withCredentials: boolean): Record<string, string>;
}

/** Where the upload goes: a PUT to a collection (a url ending in "/") names the file inside it. */
export function uploadTarget(destination: HttpDestinationFields): URL {
  const url = new URL(destination.url);
  if (destination.method === 'PUT' && url.pathname.endsWith('/')) {
    url.pathname += destination.filename.replace(/^\//, '').split('/').map(encodeURIComponent).join('/');
  }
  return url;
}

/**
 * The caller's headers, the Basic credentials, and the service's user agent (which the caller may
 * replace). Without credentials (a redirect to another origin), secret headers are left out, as
 * browsers and curl leave out Authorization there.
 */
export function requestHeaders(destination: HttpDestinationFields, withCredentials: boolean): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'upload-destinations' };
  for (const [name, value] of Object.entries(destination.headers)) {
    if (withCredentials || !isSecretHeader(name)) headers[name.toLowerCase()] = value;
  }
  if (withCredentials && destination.user !== undefined) headers.authorization = basicAuthorization(destination.user, destination.password ?? '');
  return headers;
}

function contentTypeOf(destination: HttpDestinationFields, source: DeliverySource): string {
  return destination.contenttype ?? source.contentType ?? 'application/octet-stream';
}

/** The body and its type: a form with the fields and the file (POST), or the file's bytes (PUT). */
function fileBody(destination: HttpDestinationFields, source: DeliverySource): { body: RequestBody; contentType: string } {
  if (destination.method === 'PUT') {
    return { body: { length: source.size, open: () => source.stream() }, contentType: contentTypeOf(destination, source) };
  }
  const form = multipartForm(destination.fields, {
    field: destination.fileid,
    filename: destination.filename,
    contentType: contentTypeOf(destination, source),
    size: source.size,
  });
  return { body: { length: form.length, open: async () => form.body(await source.stream()) }, contentType: form.contentType };
}

/**
 * The upload of `source` as the destination asks for it. With `deliveryKey`, it carries an
 * `Idempotency-Key` (IETF httpapi draft) the same in every attempt, unless the caller's headers set
 * one: a server that honours it keeps one file when an answer lost makes the service send again.
 */
export function fileUpload(destination: HttpDestinationFields, source: DeliverySource, deliveryKey?: string): PlannedRequest {
  const { body, contentType } = fileBody(destination, source);
  const idempotency: Record<string, string> = deliveryKey === undefined ? {} : { 'idempotency-key': `"${deliveryKey}"` };
  return {
    method: destination.method,
    body,
    headers: (withCredentials) => ({ ...idempotency, ...requestHeaders(destination, withCredentials), 'content-type': contentType }),
  };
}

/** An OPTIONS request with the upload's headers and credentials and no body: asks without sending the file. */
export function optionsRequest(destination: HttpDestinationFields): PlannedRequest {
  return { method: 'OPTIONS', headers: (withCredentials) => requestHeaders(destination, withCredentials) };
}
