import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { NetworkPolicy } from '../../../shared/destination/index.ts';
import { assumedRole } from './assumed-role.ts';
import { s3Addressing } from './endpoint.ts';
import { S3Api } from './s3-api.ts';
import type { S3DestinationFields } from './schema.ts';

/**
 * Stores' APIs kept across deliveries of a warm function, so deliveries to one store reuse
 * connections; one cache per network policy (a function has one), since an API's agent carries its policy.
 */
const apisByNetwork = new WeakMap<NetworkPolicy, Map<string, S3Api>>();
const maxCachedApis = 32;

/** How a store's requests are sent. */
export interface S3ApiOptions {
  /**
   * Whether a failed request is sent again. Not for the requests that make the object (PutObject,
   * CompleteMultipartUpload): sent again blindly after a lost answer, they write it twice (a second
   * version); the upload checks first. @default true
   */
  readonly retries?: boolean;
}

function credentialsOf(destination: S3DestinationFields, region: string): AwsCredentialIdentity | AwsCredentialIdentityProvider {
  if (destination.role_arn !== undefined) return assumedRole(destination.role_arn, destination.external_id ?? '', region);
  if (destination.aws_use_policy || destination.aws_access_key_id === undefined) return defaultProvider();
  return {
    accessKeyId: destination.aws_access_key_id,
    secretAccessKey: destination.aws_secret_access_key ?? '',
    ...(destination.sessiontoken === undefined ? {} : { sessionToken: destination.sessiontoken }),
  };
}

/**
 * The API of a destination's store: its keys, an assumed role's, or (bucket-policy mode) the
 * service's own identity; its region, endpoint and addressing style; an agent that connects only
 * where `network` allows (the endpoint is the caller's choice). Destinations that agree on all of
 * these share one (and its open connections).
 */
export function s3ApiFor(destination: S3DestinationFields, network: NetworkPolicy, options: S3ApiOptions = {}): S3Api {
  const addressing = s3Addressing(destination);
  const identity = destination.aws_use_policy
    ? ['policy']
    : destination.role_arn !== undefined
      ? ['role', destination.role_arn, destination.external_id]
      : [destination.aws_access_key_id, destination.aws_secret_access_key, destination.sessiontoken];
  const retries = options.retries ?? true;
  const key = JSON.stringify([addressing, identity, retries]);
  let apis = apisByNetwork.get(network);
  if (!apis) {
    apis = new Map();
    apisByNetwork.set(network, apis);
  }
  let api = apis.get(key);
  if (!api) {
    // The oldest is dropped, not closed: an upload may still be using it.
    if (apis.size >= maxCachedApis) apis.delete(apis.keys().next().value ?? '');
    api = new S3Api({ addressing, credentials: credentialsOf(destination, addressing.region), network, retries });
    apis.set(key, api);
  }
  return api;
}
