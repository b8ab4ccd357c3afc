import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createHash, randomBytes } from 'node:crypto';
import { destinationDefinition } from '../destinations/registry.ts';
import type { DeliveryMessage } from '../../shared/contract/message.ts';
import { sealingContext } from '../../shared/contract/message.ts';
import { uploadRequestSchema, type Destination, type UploadRequest } from '../../shared/contract/request.ts';
import { formatPath, parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError, type FieldError } from '../../shared/errors.ts';
import type { JobStore } from '../../shared/jobs/job-store.ts';
import type { Job } from '../../shared/jobs/records.ts';
import { namesPrivateNetwork } from '../../shared/net/address-guard.ts';
import type { EnvelopeSealer } from '../../shared/secrets/sealer.ts';

export interface AcceptDependencies {
  readonly jobs: JobStore;
  readonly sqs: SQSClient;
  /** Destination type → queue URL. */
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly sealer: EnvelopeSealer;
  readonly allowPrivateNetworks: boolean;
}

export interface AcceptOptions {
  /** From the `Idempotency-Key` header; the body's `idempotency_key` wins when both are given. */
  readonly idempotencyKey?: string;
  /** `api`, `s3` or `inbox`. */
  readonly origin: string;
}

export interface Accepted {
  readonly token: string;
  readonly request: UploadRequest;
  /** False when an idempotency key matched an earlier job: nothing new was queued. */
  readonly created: boolean;
}

/** Thrown when an idempotency key is repeated with a different request. */
export class IdempotencyConflictError extends Error {
  public constructor(key: string) {
    super(`idempotency key '${key}' was already used for a different request`);
    this.name = 'IdempotencyConflictError';
  }
}

function newToken(): string {
  return `ud_${randomBytes(15).toString('base64url')}`;
}

function destinationsOf(request: UploadRequest): Destination[] {
  return request.upload.destinations ?? (request.upload.destination ? [request.upload.destination] : []);
}

function destinationsPath(request: UploadRequest, index: number): (string | number)[] {
  return request.upload.destinations ? ['upload', 'destinations', index] : ['upload', 'destination'];
}

/** Splits a destination into its public fields and its inline secret fields. */
function splitSecrets(destination: Destination): { open: Record<string, unknown>; secrets: Record<string, string> } {
  const { secretFields } = destinationDefinition(destination.type);
  const open: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [field, value] of Object.entries(destination)) {
    if (secretFields.includes(field) && typeof value === 'string') secrets[field] = value;
    else if (value !== undefined) open[field] = value;
  }
  return { open, secrets };
}

/** The deployed service refuses addresses on loopback and private networks (SSRF). */
function privateNetworkErrors(request: UploadRequest): FieldError[] {
  const errors: FieldError[] = [];
  if (request.source.url !== undefined && namesPrivateNetwork(request.source.url)) {
    errors.push({ path: 'source.url', message: 'must not be on a loopback or private network' });
  }
  if (request.callback_url !== undefined && namesPrivateNetwork(request.callback_url)) {
    errors.push({ path: 'callback_url', message: 'must not be on a loopback or private network' });
  }
  destinationsOf(request).forEach((destination, index) => {
    for (const { field, address } of destinationDefinition(destination.type).endpointsOf(destination)) {
      if (namesPrivateNetwork(address)) {
        errors.push({ path: formatPath([...destinationsPath(request, index), field]), message: 'must not be on a loopback or private network' });
      }
    }
  });
  return errors;
}

/** A digest of what the request asks for, without secrets, to recognise a repeated idempotency key. */
function fingerprint(request: UploadRequest): string {
  const open = destinationsOf(request).map((destination) => splitSecrets(destination).open);
  return createHash('sha256')
    .update(JSON.stringify({ source: request.source, open, callback: request.callback_url, extension: request.upload.extension }))
    .digest('base64url');
}

async function enqueue(job: Job, request: UploadRequest, dependencies: AcceptDependencies): Promise<void> {
  const destinations = destinationsOf(request);
  await Promise.all(
    job.destinations
      .filter((record) => record.state === 'queued')
      .map(async (record) => {
        const { secrets } = splitSecrets(destinations[record.index]!);
        const message: DeliveryMessage = {
          version: 1,
          token: job.token,
          index: record.index,
          type: record.type,
          destination: { ...record.destination },
          ...(Object.keys(secrets).length > 0
            ? { sealed: await dependencies.sealer.seal(secrets, sealingContext(job.token, record.index)) }
            : {}),
          source: job.source,
          ...(job.extension === undefined ? {} : { extension: job.extension }),
        };
        const queueUrl = dependencies.queueUrls[record.type];
        if (!queueUrl) throw new Error(`no queue is configured for destination type '${record.type}'`);
        await dependencies.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
      }),
  );
  await dependencies.jobs.markEnqueued(job.token);
}

/**
 * The one way a job enters the service, whichever door it came through: validate the request
 * (every offending field named), refuse private-network addresses, record the job without its
 * secrets, and queue one message per destination with the secrets sealed. A repeated idempotency
 * key returns the earlier job; if that job's messages were not all queued (a crash in between),
 * they are queued now, so no job is lost and none is delivered twice.
 */
export async function accept(input: unknown, options: AcceptOptions, dependencies: AcceptDependencies): Promise<Accepted> {
  const request = parseOrThrow(uploadRequestSchema, input);
  if (!dependencies.allowPrivateNetworks) {
    const errors = privateNetworkErrors(request);
    if (errors.length > 0) throw new ValidationError(errors);
  }
  const idempotencyKey = request.idempotency_key ?? options.idempotencyKey;
  let token = newToken();
  if (idempotencyKey !== undefined) {
    const print = fingerprint(request);
    const earlier = await dependencies.jobs.reserveIdempotencyKey(idempotencyKey, token, print);
    if (earlier) {
      if (earlier.fingerprint !== print) throw new IdempotencyConflictError(idempotencyKey);
      token = earlier.token;
      const job = await dependencies.jobs.get(token);
      if (job?.enqueued) return { token, request, created: false };
      if (job) {
        await enqueue(job, request, dependencies);
        return { token, request, created: false };
      }
    }
  }
  const job: Job = {
    token,
    createdAt: new Date().toISOString(),
    source: request.source,
    ...(request.upload.extension === undefined ? {} : { extension: request.upload.extension }),
    ...(request.callback_url === undefined ? {} : { callbackUrl: request.callback_url }),
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    origin: options.origin,
    enqueued: false,
    destinationCount: destinationsOf(request).length,
    destinations: destinationsOf(request).map((destination, index) => ({
      index,
      type: destination.type,
      destination: splitSecrets(destination).open,
      state: 'queued',
      attempts: 0,
      updatedAt: new Date().toISOString(),
    })),
  };
  const { destinations, ...record } = job;
  await dependencies.jobs.create(record, destinations);
  await enqueue(job, request, dependencies);
  return { token, request, created: true };
}
