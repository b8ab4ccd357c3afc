import { S3Client, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { BuildMiddleware, FinalizeRequestMiddleware } from '@smithy/types';
import { Readable } from 'node:stream';
import { guardedHttpAgent, guardedHttpsAgent, type NetworkPolicy } from '../../../shared/destination/index.ts';
import { assumedRole } from './assumed-role.ts';
import { s3Addressing } from './endpoint.ts';
import type { S3DestinationFields } from './schema.ts';

/** Sockets per destination client: enough for every part in flight. */
const maxSockets = 16;

/**
 * Clients kept across deliveries of a warm function, so deliveries to one store reuse connections;
 * one cache per network policy (a function has one), since a client's agents carry its policy.
 */
const clientsByNetwork = new WeakMap<NetworkPolicy, Map<string, S3Client>>();
const maxCachedClients = 32;

/** How a client sends its requests. */
export interface S3ClientOptions {
  /**
   * Whether the SDK sends a request again after a failure. Not for the requests that make the
   * object (PutObject, CompleteMultipartUpload): sent again blindly after a lost answer, they write
   * it twice (a second version); the upload checks first. @default true
   */
  readonly retries?: boolean;
}

/**
 * The S3 client for a destination: its keys, or (bucket-policy mode) the service's own identity
 * from the default provider chain; its region, endpoint and addressing style; and agents that
 * connect only where `network` allows (the endpoint is the caller's choice). Destinations that
 * agree on all of these share one client (and its open connections).
 */
export function s3ClientFor(destination: S3DestinationFields, network: NetworkPolicy, options: S3ClientOptions = {}): S3Client {
  const addressing = s3Addressing(destination);
  const identity = destination.aws_use_policy
    ? ['policy']
    : destination.role_arn !== undefined
      ? ['role', destination.role_arn, destination.external_id]
      : [destination.aws_access_key_id, destination.aws_secret_access_key, destination.sessiontoken];
  const retries = options.retries ?? true;
  const key = JSON.stringify([addressing, identity, retries]);
  let clients = clientsByNetwork.get(network);
  if (!clients) {
    clients = new Map();
    clientsByNetwork.set(network, clients);
  }
  let client = clients.get(key);
  if (!client) {
    // The oldest is dropped, not destroyed: an upload may still be using it.
    if (clients.size >= maxCachedClients) clients.delete(clients.keys().next().value ?? '');
    client = newClient(destination, network, retries);
    clients.set(key, client);
  }
  return client;
}

function newClient(destination: S3DestinationFields, network: NetworkPolicy, retries: boolean): S3Client {
  const { endpoint, region, forcePathStyle } = s3Addressing(destination);
  const credentials =
    destination.role_arn !== undefined
      ? assumedRole(destination.role_arn, destination.external_id ?? '', region)
      : destination.aws_use_policy || destination.aws_access_key_id === undefined
        ? undefined
        : {
            accessKeyId: destination.aws_access_key_id,
            secretAccessKey: destination.aws_secret_access_key ?? '',
            ...(destination.sessiontoken === undefined ? {} : { sessionToken: destination.sessiontoken }),
          };
  const client = new S3Client({
    region,
    endpoint,
    forcePathStyle,
    credentials,
    ...(retries ? {} : { maxAttempts: 1 }),
    // We send our own CRC-32 with every part; the SDK need not compute another.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      httpAgent: guardedHttpAgent(network, { maxSockets }),
      httpsAgent: guardedHttpsAgent(network, { maxSockets }),
      connectionTimeout: 10_000,
      requestTimeout: 120_000,
    }),
  });
  client.middlewareStack.add(unsignedPayloadOverTls, { step: 'build', name: 'unsignedPayloadOverTls' });
  // After the retry middleware: every attempt slices the part afresh.
  client.middlewareStack.addRelativeTo(slicedBodyOverTls, { relation: 'after', toMiddleware: 'retryMiddleware', name: 'slicedBodyOverTls' });
  return client;
}

/**
 * Over TLS the payload is not hashed into the signature (`UNSIGNED-PAYLOAD`, as the AWS CLI does):
 * TLS protects it in transit and the CRC-32 sent with every part lets the store verify it, so the
 * SHA-256 of every byte would be paid for nothing. Over plain http the payload stays signed.
 */
const sliceBytes = 1024 * 1024;

function* slices(body: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < body.length; offset += sliceBytes) yield body.subarray(offset, offset + sliceBytes);
}

/**
 * Over TLS a part goes to the socket in 1 MiB slices: TLS then encrypts as the socket drains,
 * instead of holding an encrypted copy of every part in flight (measured: peak memory flat with
 * the file's size, and lower). The original request keeps its buffer, so a retry slices it again.
 */
const slicedBodyOverTls: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
  const request = args.request as { protocol?: string; body?: unknown };
  if (request.protocol !== 'https:' || !(request.body instanceof Uint8Array) || request.body.length <= sliceBytes) return next(args);
  const sliced = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as object, request, {
    body: Readable.from(slices(request.body), { objectMode: false }),
  });
  return next({ ...args, request: sliced });
};

const unsignedPayloadOverTls: BuildMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
  const request = args.request as { protocol?: string; headers?: Record<string, string> };
  if (request.protocol === 'https:' && request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  return next(args);
};
