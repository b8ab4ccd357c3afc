import type { HttpRequest } from '@smithy/types';
import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * The request a SigV4 signer signs, on `endpoint`'s host: `path` as it will be sent (the caller
 * escapes it as the service wants), and its query unescaped.
 */
export function requestToSign(
  endpoint: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  query: Record<string, string> = {},
): HttpRequest {
  return {
    method,
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path,
    query,
    headers: { host: endpoint.host, ...headers },
    ...(body === undefined ? {} : { body }),
  };
}

/** RFC 3986 escaping as SigV4 canonicalises it: `encodeURIComponent` and `!'()*` too. */
export function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A signed request's query as it goes on the wire, each name and value escaped as it was signed. */
export function queryString(query: HttpRequest['query']): string {
  return Object.entries(query ?? {})
    .flatMap(([name, value]) => [value ?? ''].flat().map((item) => `${escapeUri(name)}=${escapeUri(item)}`))
    .join('&');
}

/** A (small) answer's body as text. */
export async function answerText(response: IncomingMessage): Promise<string> {
  let text = '';
  response.setEncoding('utf8');
  for await (const chunk of response) text += chunk as string;
  return text;
}

/**
 * Sends a signed request to `base`'s host at `path` (its query on it, as signed) and answers
 * Node's response, its body not yet read; the caller judges its status.
 */
export function sendSigned(
  base: URL,
  method: string,
  path: string,
  signedHeaders: Record<string, string>,
  body: string | undefined,
  agent: Agent,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const outgoing = (base.protocol === 'https:' ? httpsRequest : httpRequest)({
      protocol: base.protocol,
      hostname: base.hostname,
      port: base.port,
      path,
      method,
      headers: body === undefined ? signedHeaders : { ...signedHeaders, 'content-length': String(Buffer.byteLength(body)) },
      agent,
      ...(signal ? { signal } : {}),
    });
    outgoing.once('response', resolve).once('error', reject).end(body);
  });
}
