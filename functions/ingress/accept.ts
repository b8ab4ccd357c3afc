import { createHash, randomBytes } from 'node:crypto';
import { destinationDefinition, uploadRequestSchema } from '../destinations/registry.ts';
import { untrustedCredentialEndpoints } from '../../shared/contract/credential-hosts.ts';
import { splitSecrets } from '../../shared/contract/field-kinds.ts';
import { callbackSealingContext, sealedFor, sealingContext, sourceSealingContext, type DeliveryMessage } from '../../shared/contract/message.ts';
import type { Destination, Source, UploadRequest } from '../../shared/contract/request.ts';
import { isStoredSource, type StoredSource } from '../../shared/contract/source.ts';
import { redactUrl } from '../../shared/net/redact.ts';
import { stagingPrefixes } from '../../shared/config.ts';
import { formatPath, parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError, type FieldError } from '../../shared/errors.ts';
import type { JobStore } from '../../shared/jobs/job-store.ts';
import type { Queues } from '../../shared/lambda/queues.ts';
import type { DestinationRecord, Job, JobRecord } from '../../shared/jobs/records.ts';
import { namesPrivateNetwork } from '../../shared/net/address-policy.ts';
import type { EnvelopeSealer } from '../../shared/secrets/sealer.ts';
import type { StagingObjects } from '../../shared/sources/staging-objects.ts';
import { listedErrors } from './listed-errors.ts';

export interface AcceptDependencies {
  readonly jobs: JobStore;
  readonly queues: Queues;
  /** Destination type → queue URL. */
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly sealer: EnvelopeSealer;
  readonly allowPrivateNetworks: boolean;
  /** S3 requests with the service's own identity: presigns uploads into the staging bucket. */
  readonly staging: StagingObjects;
  readonly stagingBucket: string;
  /** How long a presigned upload URL stays valid. */
  readonly presignedUrlSeconds: number;
  /** Staging-bucket prefixes a request may name as its `{ bucket, key }` source; none by default. */
  readonly stagingSourcePrefixes: readonly string[];
  /** Hosts stored credentials may be sent to beyond those each destination trusts. */
  readonly credentialHosts: readonly string[];
  /**
   * The AWS account the service runs in, whose roles no destination may name to assume.
   * @default - unknown: no role is refused
   */
  readonly accountId?: string;
}

export interface AcceptOptions {
  /** `api`, `s3` or `inbox`. */
  readonly origin: string;
  /** From the `Idempotency-Key` header (or derived by a door); the body's `idempotency_key` wins. */
  readonly idempotencyKey?: string;
  /** A token the door derives so the sender can find the job (S3 and inbox doors). */
  readonly token?: string;
}

/** Where to PUT the file of a presigned-upload job. */
export interface PresignedUpload {
  readonly url: string;
  readonly method: 'PUT';
  readonly headers: Readonly<Record<string, string>>;
  readonly expiresAt: string;
}

export interface Accepted {
  readonly token: string;
  readonly request: UploadRequest;
  /** False when an idempotency key matched an earlier job: nothing new was queued. */
  readonly created: boolean;
  readonly presignedUpload?: PresignedUpload;
}

/** Thrown when an idempotency key is repeated with a different request. */
export class IdempotencyConflictError extends Error {
  public constructor(key: string) {
    super(`idempotency key '${key}' was already used for a different request`);
    this.name = 'IdempotencyConflictError';
  }
}

export function newToken(): string {
  return `ud_${randomBytes(15).toString('base64url')}`;
}

/** Presigned uploads land under this prefix, in a folder named by the job's token. */
export const presignedUploadPrefix = stagingPrefixes.presignedUploads;

function destinationsOf(request: UploadRequest): readonly Destination[] {
  return request.upload.destinations ?? (request.upload.destination ? [request.upload.destination] : []);
}

function destinationPath(request: UploadRequest, index: number): (string | number)[] {
  return request.upload.destinations ? ['upload', 'destinations', index] : ['upload', 'destination'];
}

/** Splits a destination into its open fields and its inline secrets, as its schema marks them. */
export function secretsApart(destination: Destination): { open: Record<string, unknown>; secrets: Record<string, unknown> } {
  return splitSecrets(destinationDefinition(destination.type).schema, destination);
}

/**
 * The deployed service refuses addresses on loopback and private networks (SSRF), and fetches
 * sources and posts callbacks over HTTPS only.
 */
function networkPolicyErrors(request: UploadRequest): FieldError[] {
  const refused = (path: string): FieldError => ({ path, message: 'must not be on a loopback or private network' });
  const errors: FieldError[] = [];
  for (const [path, url] of [
    ['source.url', request.source.url],
    ['callback_url', request.callback_url],
  ] as const) {
    if (url === undefined) continue;
    if (namesPrivateNetwork(url)) errors.push(refused(path));
    else if (!url.startsWith('https://')) errors.push({ path, message: 'must be an https:// URL' });
  }
  destinationsOf(request).forEach((destination, index) => errors.push(...privateEndpointErrors(destination, destinationPath(request, index))));
  return errors;
}

/** The fields of `destination` (at `path`) that plainly name a loopback or private address. */
export function privateEndpointErrors(destination: Destination, path: readonly (string | number)[]): FieldError[] {
  return destinationDefinition(destination.type)
    .endpointsOf(destination)
    .filter(({ address }) => namesPrivateNetwork(address))
    .map(({ field }) => ({ path: formatPath([...path, field]), message: 'must not be on a loopback or private network' }));
}

/** The field of `destination` (at `path`) that names the service's own staging bucket, where no destination may write. */
function stagingBucketErrors(destination: Destination, path: readonly (string | number)[], stagingBucket: string): FieldError[] {
  const target = destinationDefinition(destination.type).bucketOf?.(destination);
  return target?.bucket === stagingBucket ? [{ path: formatPath([...path, target.field]), message: "must not be the service's own staging bucket" }] : [];
}

/** The fields of `destination` (at `path`) whose stored credentials would go to a host not trusted with them. */
function credentialHostErrors(destination: Destination, path: readonly (string | number)[], credentialHosts: readonly string[]): FieldError[] {
  return untrustedCredentialEndpoints(destinationDefinition(destination.type), destination, credentialHosts).map(({ field, message }) => ({
    path: formatPath([...path, field]),
    message,
  }));
}

/**
 * The field of `destination` (at `path`) that names a role of the service's own account. The
 * functions are denied those roles (one whose trust policy trusts its account's root ignores the
 * external id, so any caller could borrow it): refused here, the request fails at once instead of
 * at delivery. The partition is not compared: a role of another partition is no more assumable
 * from this one.
 */
function ownAccountRoleErrors(destination: Destination, path: readonly (string | number)[], accountId: string | undefined): FieldError[] {
  if (accountId === undefined) return [];
  const role = destinationDefinition(destination.type).assumedRoleOf?.(destination);
  // arn:<partition>:iam::<account>:role/<name>
  if (role?.roleArn.split(':')[4] !== accountId) return [];
  return [
    {
      path: formatPath([...path, role.field]),
      message: `must be a role of another account than the service's own (${accountId}): the service may not assume its own account's roles, whose trust policies can let it in without the external id`,
    },
  ];
}

/**
 * Where a destination (at `path`) may not reach, whether a job names it or it is only tested: the
 * staging bucket, hosts not trusted with its stored credentials, roles of the service's own account.
 */
export function destinationConfinementErrors(
  destination: Destination,
  path: readonly (string | number)[],
  dependencies: Pick<AcceptDependencies, 'stagingBucket' | 'credentialHosts' | 'accountId'>,
): FieldError[] {
  return [
    ...stagingBucketErrors(destination, path, dependencies.stagingBucket),
    ...credentialHostErrors(destination, path, dependencies.credentialHosts),
    ...ownAccountRoleErrors(destination, path, dependencies.accountId),
  ];
}

/**
 * A request reads only what is its own and writes only where it should: a `{ bucket, key }` source
 * names the staging bucket (the only one the functions may read) under a prefix the operator
 * allows (a dropped file is the drop door's own source); no destination writes into the staging
 * bucket, whose drops, manifests and job notes other callers rely on; stored credentials go only
 * to hosts trusted with them; and no role of the service's own account is named. A presigned
 * source comes only through the API: no other door answers its sender, so the URL to upload the
 * file to would be lost, and the job would wait for a file that never comes.
 */
function confinementErrors(request: UploadRequest, options: AcceptOptions, dependencies: AcceptDependencies): FieldError[] {
  const errors: FieldError[] = [];
  const { bucket, key, presigned } = request.source;
  if (presigned !== undefined && options.origin !== 'api') {
    errors.push({ path: 'source.presigned', message: 'is only for POST /v1/uploads, whose answer carries the URL to upload the file to; drop the file with a manifest instead' });
  }
  if (bucket !== undefined && bucket !== dependencies.stagingBucket) {
    errors.push({ path: 'source.bucket', message: `must be the staging bucket '${dependencies.stagingBucket}'` });
  } else if (key !== undefined && options.origin !== 's3' && !dependencies.stagingSourcePrefixes.some((prefix) => key.startsWith(prefix))) {
    const allowed = dependencies.stagingSourcePrefixes.length > 0 ? `one of ${dependencies.stagingSourcePrefixes.join(', ')}` : 'none';
    errors.push({
      path: 'source.key',
      message: `must be under a staging prefix the operator allows (${allowed}); send the file with a presigned upload or the drop folder instead`,
    });
  }
  destinationsOf(request).forEach((destination, index) => errors.push(...destinationConfinementErrors(destination, destinationPath(request, index), dependencies)));
  return errors;
}

/** A digest of what the request asks for, without secrets, to recognise a repeated idempotency key. */
function fingerprint(request: UploadRequest): string {
  const open = destinationsOf(request).map((destination) => secretsApart(destination).open);
  return createHash('sha256')
    .update(JSON.stringify({ source: request.source, open, callback: request.callback_url, extension: request.upload.extension }))
    .digest('base64url');
}

/**
 * Queues one message per destination still queued, from the job's records (secrets stay sealed),
 * then notes on the job that it is queued, unless `remember` is false: only a job that can be asked
 * for again (an idempotency key, a presigned upload) needs to know, and the note costs a write.
 */
export async function enqueue(job: Job, dependencies: Pick<AcceptDependencies, 'jobs' | 'queues' | 'queueUrls'>, remember = true): Promise<void> {
  await Promise.all(
    job.destinations
      .filter((record) => record.state === 'queued')
      .map(async (record) => {
        const queueUrl = dependencies.queueUrls[record.type];
        if (!queueUrl) throw new Error(`no queue is configured for destination type '${record.type}'`);
        const source = job.source;
        if (!isStoredSource(source)) throw new Error(`job ${job.token} has no source to deliver`);
        const message: DeliveryMessage = {
          version: 1,
          token: job.token,
          index: record.index,
          type: record.type,
          destination: { ...record.destination },
          ...(record.sealed === undefined ? {} : { sealed: record.sealed }),
          source,
          ...(job.extension === undefined ? {} : { extension: job.extension }),
          // The whole job's count, not the destinations queued now: a retry queues only some of them.
          ...(job.sealedCallbackUrl === undefined ? {} : { notify: true, destinations: job.destinationCount }),
          acceptedAt: job.createdAt,
        };
        await dependencies.queues.send(queueUrl, message);
      }),
  );
  if (remember) await dependencies.jobs.markEnqueued(job.token);
}

/**
 * The source as the job keeps it: an object of the staging bucket (a presigned upload lands at
 * `presignedKey`), or a URL sealed like any secret, since its query may hold a signature or a
 * token, beside its redacted form for show.
 */
async function storedSource(source: Source, presignedKey: string | undefined, token: string, dependencies: AcceptDependencies): Promise<StoredSource> {
  if (presignedKey !== undefined) return { bucket: dependencies.stagingBucket, key: presignedKey };
  if (source.url !== undefined) {
    return { url: redactUrl(source.url), sealedUrl: await dependencies.sealer.seal({ url: source.url }, sourceSealingContext(token)) };
  }
  return { bucket: source.bucket ?? '', key: source.key ?? '' };
}

/** A URL to PUT a presigned-upload job's file to, at `key` of the staging bucket. */
async function presign(key: string, source: NonNullable<Source['presigned']>, dependencies: AcceptDependencies): Promise<PresignedUpload> {
  const headers: Record<string, string> = source.content_type ? { 'content-type': source.content_type } : {};
  const url = await dependencies.staging.presignedPut({ bucket: dependencies.stagingBucket, key }, dependencies.presignedUrlSeconds);
  const expiresAt = new Date(Date.now() + dependencies.presignedUrlSeconds * 1000).toISOString();
  return { url, method: 'PUT', headers, expiresAt };
}

/**
 * The one way a job enters the service, whichever door it came through: validate the request
 * (every offending field named), refuse private-network addresses, record the job with its
 * secrets sealed, and queue one message per destination (a presigned-upload job is queued when its
 * file lands). A repeated idempotency key returns the earlier job; if that job's messages were not
 * all queued (a crash in between), they are queued now, so no job is lost and none is delivered twice.
 */
export async function accept(input: unknown, options: AcceptOptions, dependencies: AcceptDependencies): Promise<Accepted> {
  const request = parseOrThrow(uploadRequestSchema, input);
  // Every refusal at once, one per field: a private address says more than an untrusted host.
  const refusals = [...(dependencies.allowPrivateNetworks ? [] : networkPolicyErrors(request)), ...confinementErrors(request, options, dependencies)];
  const firstPerField = refusals.filter((error, position) => refusals.findIndex((other) => other.path === error.path) === position);
  if (firstPerField.length > 0) throw new ValidationError(firstPerField);
  const idempotencyKey = request.idempotency_key ?? options.idempotencyKey;
  let token = options.token ?? newToken();
  if (idempotencyKey !== undefined) {
    const print = fingerprint(request);
    const earlier = await dependencies.jobs.reserveIdempotencyKey(idempotencyKey, token, print);
    if (earlier) {
      if (earlier.fingerprint !== print) throw new IdempotencyConflictError(idempotencyKey);
      token = earlier.token;
      const job = await dependencies.jobs.get(token);
      // A job without all its destination items failed to be written, so nothing of it was queued:
      // it is written again whole, below, like a job that was never written.
      if (job && job.destinations.length === job.destinationCount) {
        const waiting = job.awaitingSource && !job.enqueued && request.source.presigned;
        if (waiting) {
          const key = 'key' in job.source ? job.source.key : '';
          return { token, request, created: false, presignedUpload: await presign(key, request.source.presigned!, dependencies) };
        }
        if (!job.enqueued) await enqueue(job, dependencies);
        return { token, request, created: false };
      }
    }
  }
  const now = new Date().toISOString();
  const presignedKey = request.source.presigned ? `${presignedUploadPrefix}${token}/${request.source.presigned.filename}` : undefined;
  const destinations: DestinationRecord[] = await Promise.all(
    destinationsOf(request).map(async (destination, index) => {
      const { open, secrets } = secretsApart(destination);
      return {
        index,
        type: destination.type,
        destination: open,
        ...(Object.keys(secrets).length > 0
          ? { sealed: await dependencies.sealer.seal(secrets, sealingContext(sealedFor(token, index, destinationDefinition(destination.type), open))) }
          : {}),
        state: 'queued' as const,
        attempts: 0,
        updatedAt: now,
      };
    }),
  );
  const record: JobRecord = {
    token,
    createdAt: now,
    source: await storedSource(request.source, presignedKey, token, dependencies),
    ...(request.upload.extension === undefined ? {} : { extension: request.upload.extension }),
    ...(request.callback_url === undefined ? {} : { sealedCallbackUrl: await dependencies.sealer.seal({ url: request.callback_url }, callbackSealingContext(token)) }),
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    origin: options.origin,
    enqueued: false,
    ...(presignedKey === undefined ? {} : { awaitingSource: true }),
    destinationCount: destinations.length,
  };
  await dependencies.jobs.create(record, destinations);
  if (presignedKey === undefined || !request.source.presigned) {
    await enqueue({ ...record, destinations }, dependencies, idempotencyKey !== undefined);
    return { token, request, created: true };
  }
  return { token, request, created: true, presignedUpload: await presign(presignedKey, request.source.presigned, dependencies) };
}

/** What a door that records rejections made of a request: the job that holds it, and why it was rejected. */
export interface DoorOutcome {
  /** The door's own token, or an earlier job's when the request repeats its idempotency key. */
  readonly token: string;
  readonly errors?: readonly FieldError[];
}

/**
 * For the doors where nobody waits for a 400 (the staging bucket, the inbox): accepts the request
 * that `read` makes of a message, or, when it is no request (too large, not JSON, not an object),
 * fails validation or reuses an idempotency key, records a `rejected` job under `options.token` so
 * its sender can read why (a job already under that token is kept). Any other failure is thrown,
 * for the caller's retry.
 */
export async function acceptOrRecordRejection(
  read: () => unknown,
  options: AcceptOptions & { readonly token: string },
  dependencies: AcceptDependencies,
): Promise<DoorOutcome> {
  let errors: readonly FieldError[];
  try {
    const { token } = await accept(read(), options, dependencies);
    return { token };
  } catch (error) {
    if (error instanceof ValidationError) errors = listedErrors(error.fields);
    else if (error instanceof IdempotencyConflictError) errors = [{ path: 'idempotency_key', message: error.message }];
    else throw error;
  }
  await dependencies.jobs.createRejected({
    token: options.token,
    createdAt: new Date().toISOString(),
    source: {},
    origin: options.origin,
    enqueued: false,
    destinationCount: 0,
    rejected: { errors },
  });
  return { token: options.token, errors };
}
