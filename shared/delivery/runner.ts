import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import type { DestinationDefinition } from '../../functions/destinations/definition.ts';
import { parseOrThrow } from '../contract/validate.ts';
import { sealingContext, type DeliveryMessage } from '../contract/message.ts';
import { describeError, PermanentError, TransientError, ValidationError, type DeliveryError } from '../errors.ts';
import type { JobStore } from '../jobs/job-store.ts';
import { jobView } from '../jobs/job-view.ts';
import { isFinal } from '../jobs/records.ts';
import { namesPrivateNetwork } from '../net/address-policy.ts';
import type { OutboundNetwork } from '../net/outbound-network.ts';
import type { EnvelopeSealer } from '../secrets/sealer.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { SourceOpener } from '../sources/source-opener.ts';
import { sendCallback, type CallbackOptions } from './callback.ts';
import type { Uploader, UploadResult } from './types.ts';

export interface DeliveryDependencies {
  readonly jobs: JobStore;
  readonly sealer: EnvelopeSealer;
  readonly secrets: SecretStore;
  readonly sources: SourceOpener;
  readonly callbacks: Omit<CallbackOptions, 'dispatcher'>;
  /** Where connections to caller-chosen hosts may go; sources, callbacks and uploads all use it. */
  readonly network: OutboundNetwork;
  /** Attempts (queue receives) before a transient failure is final and the message is dead-lettered. */
  readonly maxAttempts: number;
  /** First retry delay; it doubles with every attempt. */
  readonly retryBaseSeconds: number;
  /** How long one attempt holds its destination before another may take over. */
  readonly leaseSeconds: number;
  readonly log: Logger;
}

/** What the queue should do with the message. */
export type DeliveryOutcome =
  | { readonly kind: 'done' }
  | { readonly kind: 'retry'; readonly delaySeconds: number; readonly error: DeliveryError };

/** Exponential backoff with half jitter, from `baseSeconds`, capped at 15 minutes (SQS's longest delay). */
export function retryDelaySeconds(attempt: number, baseSeconds: number, random: () => number = Math.random): number {
  const ceiling = Math.min(900, baseSeconds * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

/** The destination with its secret fields: stored ones (a `credentials` reference), then inline sealed ones. */
async function resolveSecrets(
  message: DeliveryMessage,
  definition: DestinationDefinition,
  dependencies: DeliveryDependencies,
): Promise<Record<string, unknown>> {
  const reference = message.destination.credentials;
  const stored = typeof reference === 'string' ? await dependencies.secrets.read(reference) : {};
  const unknownFields = Object.keys(stored).filter((field) => !definition.secretFields.includes(field));
  if (unknownFields.length > 0) {
    throw new PermanentError(
      `credentials: secret '${String(reference)}' holds ${unknownFields.join(', ')}, which ${definition.type} does not take; it may hold ${definition.secretFields.join(', ')}`,
      { code: 'InvalidSecret' },
    );
  }
  const inline = message.sealed ? await dependencies.sealer.unseal(message.sealed, sealingContext(message.token, message.index)) : {};
  return { ...message.destination, ...stored, ...inline };
}

/**
 * Fails at once, naming the field, a destination whose endpoint plainly names a refused place: the
 * ingress checks this too, but a queue message need not have come through it. What names resolve
 * to is checked where it counts, by the guarded connections when they connect.
 */
function checkEndpoints<Schema extends z.ZodType>(definition: DestinationDefinition<Schema>, destination: z.output<Schema>, network: OutboundNetwork): void {
  if (network.allowPrivateNetworks) return;
  for (const { field, address } of definition.endpointsOf(destination)) {
    if (namesPrivateNetwork(address)) {
      throw new PermanentError(`${field}: '${address}' is on a private network`, { code: 'EndpointNotAllowed' });
    }
  }
}

/**
 * Sends the job's callback when this delivery was the last to finish (once per distinct outcome).
 * A job without a callback URL costs no read here.
 */
async function callBackIfFinished(message: DeliveryMessage, dependencies: DeliveryDependencies): Promise<void> {
  if (!message.notify) return;
  const { token } = message;
  const job = await dependencies.jobs.get(token);
  if (!job?.callbackUrl || !job.destinations.every((destination) => isFinal(destination.state))) return;
  const outcome = job.destinations.map((destination) => destination.state).join(',');
  if (!(await dependencies.jobs.claimCallback(token, outcome))) return;
  const sent = await sendCallback(job.callbackUrl, jobView(job), { ...dependencies.callbacks, dispatcher: dependencies.network.dispatcher });
  await dependencies.jobs.recordCallback(token, { ...sent, outcome, at: new Date().toISOString() });
  dependencies.log.info('callback', { token, state: sent.state, attempts: sent.attempts, status: sent.status });
}

/**
 * Delivers one destination of one job: claim it (a finished or busy destination is never uploaded
 * twice), resolve its credentials, open the source, upload, record the result and call back.
 * Permanent failures are recorded and end the delivery; transient ones ask the queue for a retry
 * until the last attempt, which is recorded as failed and dead-lettered.
 */
export async function deliver<Schema extends z.ZodType>(
  message: DeliveryMessage,
  receiveCount: number,
  definition: DestinationDefinition<Schema>,
  uploader: Uploader<z.output<Schema>>,
  dependencies: DeliveryDependencies,
  signal: AbortSignal,
): Promise<DeliveryOutcome> {
  const { jobs, log } = dependencies;
  const { token, index } = message;
  const claim = await jobs.claim(token, index, dependencies.leaseSeconds);
  if (claim.kind === 'finished') {
    log.info('delivery already finished; message ignored', { token, index, state: claim.state });
    return { kind: 'done' };
  }
  if (claim.kind === 'busy') {
    const error = new TransientError('another attempt holds this delivery', { code: 'Busy' });
    return { kind: 'retry', delaySeconds: dependencies.leaseSeconds, error };
  }
  const started = Date.now();
  log.info('delivery started', { token, index, type: definition.type, attempt: claim.attempts });
  // A failed callback never fails a delivery that has happened (that would upload it again).
  const callBack = (): Promise<void> =>
    callBackIfFinished(message, dependencies).catch((error: unknown) => log.error('callback failed', { token, reason: describeError(error) }));
  let result: UploadResult;
  try {
    let destination: z.output<Schema>;
    try {
      destination = parseOrThrow(definition.schema, await resolveSecrets(message, definition, dependencies), ['destination']);
    } catch (error) {
      if (error instanceof ValidationError) throw new PermanentError(error.message, { code: 'InvalidDestination', cause: error });
      throw error;
    }
    checkEndpoints(definition, destination, dependencies.network);
    const source = await dependencies.sources.open(message.source, message.extension, signal);
    try {
      result = await uploader.upload({ destination, source, signal, network: dependencies.network });
    } finally {
      source.stream.destroy();
    }
    await jobs.succeed(token, index, claim.attemptId, result);
  } catch (thrown) {
    const error = uploader.classify(thrown);
    const final = !error.retryable || receiveCount >= dependencies.maxAttempts;
    await jobs.fail(token, index, claim.attemptId, { code: error.code, message: error.message, retryable: error.retryable }, final);
    log.warn('delivery failed', { token, index, code: error.code, reason: error.message, retryable: error.retryable, final, attempt: receiveCount });
    if (final) await callBack();
    if (!error.retryable) return { kind: 'done' };
    // A transient failure on its last attempt goes back to the queue at once: the next receive
    // moves it to the dead-letter queue, ready for redrive.
    return { kind: 'retry', delaySeconds: final ? 0 : retryDelaySeconds(receiveCount, dependencies.retryBaseSeconds), error };
  }
  log.info('delivery succeeded', { token, index, bytes: result.bytes, milliseconds: Date.now() - started });
  await callBack();
  return { kind: 'done' };
}
