import type { HttpRequest } from '@smithy/types';

/**
 * The request a SigV4 signer signs, on `endpoint`'s host: `path` as it will be sent (the caller
 * escapes it as the service wants), no query.
 */
export function requestToSign(endpoint: URL, method: string, path: string, headers: Record<string, string>, body?: string): HttpRequest {
  return {
    method,
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path,
    query: {},
    headers: { host: endpoint.host, ...headers },
    ...(body === undefined ? {} : { body }),
  };
}
