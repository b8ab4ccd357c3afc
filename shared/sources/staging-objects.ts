import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { requestToSign } from '../net/sigv4-request.ts';

export interface StagingObjectsSettings {
  readonly region: string;
  /** Another S3 endpoint (the local runtime's), addressed path-style. @default https://s3.<region>.amazonaws.com */
  readonly endpoint?: string;
  /** @default the SDK's default chain (in the function bundles, the environment Lambda provides) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** Reads objects of the service's own buckets: GetObject, from an offset. */
export type GetStagingObject = (bucket: string, key: string, offset: number, signal: AbortSignal) => Promise<IncomingMessage>;

/**
 * A key as S3 wants it in the path: each segment escaped once, the slashes kept. The path is sent
 * as built, never through URL parsing, which would resolve `..` segments into another key.
 */
function escapedKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/**
 * GetObject of a staging object as one SigV4-signed GET, with the SDK's own signer: the only S3
 * call a destination function makes of the service's buckets, and the S3 client would bring every
 * S3 operation's schema with it (100 KiB of each non-S3 function's bundle, parsed at every cold
 * start). The answer is Node's response, its body not yet read; the caller judges its status.
 * These requests stay outside the network guard, as the service's own clients do.
 */
export function stagingObjects(settings: StagingObjectsSettings): GetStagingObject {
  const signer = new SignatureV4({
    service: 's3',
    region: settings.region,
    credentials: settings.credentials ?? defaultProvider(),
    sha256: Sha256,
    // S3 signs the path as sent: escaped once, not twice as other services want it.
    uriEscapePath: false,
  });
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  return async (bucket, key, offset, signal) => {
    // Virtual-hosted on AWS (the stack's bucket names have no dots); path-style on another endpoint.
    const base = new URL(settings.endpoint ?? `https://${bucket}.s3.${settings.region}.amazonaws.com`);
    const path = `${settings.endpoint === undefined ? '' : `${base.pathname.replace(/\/$/, '')}/${bucket}`}/${escapedKey(key)}`;
    const secure = base.protocol === 'https:';
    const signed = await signer.sign(requestToSign(base, 'GET', path, offset > 0 ? { range: `bytes=${offset}-` } : {}));
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)({
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port,
        path,
        method: 'GET',
        headers: signed.headers,
        agent: secure ? agents.https : agents.http,
        signal,
      });
      request.once('response', resolve).once('error', reject).end();
    });
  };
}
