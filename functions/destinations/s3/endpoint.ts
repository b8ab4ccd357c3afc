import type { S3DestinationFields } from './schema.ts';

/** Where and how a destination's bucket is addressed. */
export interface S3Addressing {
  /** Custom endpoint URL, or undefined for AWS's own. */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly forcePathStyle: boolean;
}

/** `s3.eu-central-1.amazonaws.com`, `s3-eu-west-1.amazonaws.com`, `s3.dualstack.us-west-2.amazonaws.com` */
function regionOfAwsHost(host: string): string | undefined {
  const match = /^(?:[^.]+\.)?s3[.-](?:dualstack\.)?([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
  return match?.[1] !== undefined && match[1] !== 'external-1' ? match[1] : undefined;
}

/** An `s3host` may be a bare host (https assumed) or a URL with scheme and port. */
function s3hostUrl(s3host: string): URL {
  return new URL(/^https?:\/\//.test(s3host) ? s3host : `https://${s3host}`);
}

export function s3Addressing(destination: S3DestinationFields): S3Addressing {
  if (destination.endpoint !== undefined) {
    return {
      endpoint: destination.endpoint,
      region: destination.region ?? 'us-east-1',
      // S3-compatible stores (MinIO, local servers) rarely resolve bucket host names.
      forcePathStyle: destination.force_path_style ?? true,
    };
  }
  if (destination.s3host !== undefined) {
    const url = s3hostUrl(destination.s3host);
    return {
      endpoint: url.origin,
      region: destination.region ?? regionOfAwsHost(url.hostname) ?? 'us-east-1',
      forcePathStyle: destination.force_path_style ?? destination.bucket.includes('.'),
    };
  }
  return {
    endpoint: undefined,
    region: destination.region ?? 'us-east-1',
    // Bucket names with dots break TLS host names in virtual-hosted style.
    forcePathStyle: destination.force_path_style ?? destination.bucket.includes('.'),
  };
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/**
 * The URL of the delivered object. It uses the endpoint's own scheme (https for AWS);
 * `secure: true` forces https even for an http endpoint.
 */
export function objectUrl(destination: S3DestinationFields, key: string): string {
  const { endpoint, region, forcePathStyle } = s3Addressing(destination);
  const base = new URL(
    endpoint ?? (region === 'us-east-1' ? 'https://s3.amazonaws.com' : `https://s3.${region}.amazonaws.com`),
  );
  if (destination.secure) base.protocol = 'https:';
  const origin = forcePathStyle ? base.origin : `${base.protocol}//${destination.bucket}.${base.host}`;
  const path = forcePathStyle ? `/${destination.bucket}/${encodeKey(key)}` : `/${encodeKey(key)}`;
  return `${origin}${path}`;
}
