import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { IncomingHttpHeaders } from 'node:http';

/** A request as a server received it. */
export interface ReceivedRequest {
  readonly method: string;
  /** The path and query, as on the request line. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Who a server takes signatures from. */
export interface SigningScope {
  readonly service: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  /** False for S3, which signs the path as sent (escaped once); other services escape it again. @default true */
  readonly uriEscapePath?: boolean;
}

/**
 * The `Authorization` AWS would compute for a received request: the request signed again at its
 * own `X-Amz-Date`, over the headers its signature says it signed. Undefined when it names no date
 * or no signed headers.
 */
export async function expectedAuthorization(request: ReceivedRequest, scope: SigningScope): Promise<string | undefined> {
  const date = request.headers['x-amz-date'];
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(request.headers.authorization ?? ''))?.[1];
  if (typeof date !== 'string' || signedHeaders === undefined) return undefined;
  const url = new URL(request.url, 'http://received');
  const again = await new SignatureV4({ ...scope, sha256: Sha256 }).sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(signedHeaders.split(';').map((name) => [name, String(request.headers[name] ?? '')])),
      body: request.body,
    },
    { signingDate: new Date(date.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z')) },
  );
  return again.headers.authorization;
}
