import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type * as z from 'zod/mini';
import { secretNames, serviceDefaults } from '../config.ts';
import { untrustedCredentialEndpoints } from '../contract/credential-hosts.ts';
import { mergeSecrets, unexpectedSecretFields, withFolderPathsCompleted } from '../contract/field-kinds.ts';
import { callbackSealingContext, resumeSealingContext, sealedFor, sealingContext, sourceSealingContext, type DeliveryMessage, type SealedFor } from '../contract/message.ts';
import type { OpenableSource } from '../contract/source.ts';
import { parseOrThrow } from '../contract/validate.ts';
import type { DestinationDefinition } from '../destination/definition.ts';
import type { ResumeSlot, StoredCredentials, UploadContext, Uploader } from '../destination/uploader.ts';
import { describeError, PermanentError, TransientError, ValidationError, WaitError, type DeliveryError } from '../errors.ts';
import { jobFromItems, type Claim, type FinishedItem, type JobStore } from '../jobs/job-store.ts';
import { jobView } from '../jobs/job-view.ts';
import { isFinal, type DeliveredFile, type DestinationState, type Job, type StoredResume } from '../jobs/records.ts';
import { hostOf, namesPrivateNetwork } from '../net/address-policy.ts';
import { redactText } from '../net/redact.ts';
import type { OutboundNetwork } from '../net/outbound-network.ts';
import type { EnvelopeSealer } from '../secrets/sealer.ts';
import type { SecretFields, SecretStore } from '../secrets/secret-store.ts';
import { SourceReader } from '../sources/delivery-source.ts';
import type { SourceOpener } from '../sources/source-opener.ts';
import { classifyFailure, runUpload } from './attempt.ts';
import { sendCallback, type CallbackOptions } from './callback.ts';
import type { DeliveryObserver } from './observer.ts';

/** A destination as its function knows it: its definition and its upload code. */
export interface DestinationModule<Schema extends z.ZodMiniObject = z.ZodMiniObject, State = unknown> {
  readonly definition: DestinationDefinition<Schema>;
  readonly uploader: Uploader<z.output<Schema>, State>;
}

export interface DeliveryDependencies {
  readonly jobs: JobStore;
  readonly sealer: EnvelopeSealer;
  readonly secrets: SecretStore;
  readonly sources: SourceOpener;
  readonly callbacks: Omit<CallbackOptions, 'network'>;
  /** Where connections to caller-chosen hosts may go; sources, callbacks and uploads all use it. */
  readonly network: OutboundNetwork;
  /** Attempts (queue receives) before a transient failure is final and the message is dead-lettered. */
  readonly maxAttempts: number;
  /** First retry delay; it doubles with every attempt. */
  readonly retryBaseSeconds: number;
  /** How long one attempt holds its destination before another may take over. */
  readonly leaseSeconds: number;
  /** Hosts stored credentials may be sent to beyond those each destination trusts. @default none */
  readonly credentialHosts?: readonly string[];
  /** The largest source read for any destination. @default serviceDefaults.maxSourceBytes */
  readonly maxSourceBytes?: number;
  /** How long a delivery may take from its first attempt. @default serviceDefaults.maxDeliverySeconds */
  readonly maxDeliverySeconds?: number;
  /** How long a source may send nothing while the upload waits for it. @default 60 */
  readonly sourceIdleSeconds?: number;
  /** How often a running upload's progress (`bytes_sent`) is written. @default 5 */
  readonly progressSeconds?: number;
  readonly log: Logger;
  /** Told what each attempt came to (the function's metrics). @default nobody */
  readonly observe?: DeliveryObserver;
}

/** What the queue should do with the message. */
export type DeliveryOutcome =
  | { readonly kind: 'done' }
  | {
      readonly kind: 'retry';
      readonly delaySeconds: number;
      readonly error: DeliveryError;
      /**
       * When to come back for the callback this attempt claimed and could not send: its last
       * attempt's message goes to the dead-letter queue, so the callback needs one of its own.
       */
      readonly callbackAt?: Date;
    }
  /** Come back at `until` without spending an attempt (a quota resets then). */
  | { readonly kind: 'defer'; readonly until: Date };

/** SQS's longest delay or visibility change. */
const maxDelaySeconds = 900;



/** Exponential backoff with half jitter, from `baseSeconds`, capped at 15 minutes (SQS's longest delay). */
export function retryDelaySeconds(attempt: number, baseSeconds: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelaySeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

/** The delay before the next attempt: what the destination asked for, else the backoff. */
function nextDelaySeconds(error: DeliveryError, attempt: number, baseSeconds: number): number {
  const asked = error instanceof TransientError ? error.retryAfterSeconds : undefined;
  return asked === undefined ? retryDelaySeconds(attempt, baseSeconds) : Math.min(maxDelaySeconds, Math.max(1, asked));
}

/** Every text value of a delivery's secrets (maps of secret entries included), to keep out of what is recorded. */
function secretValuesOf(...layers: readonly SecretFields[]): string[] {
  const values = (value: unknown): string[] =>
    typeof value === 'object' && value !== null ? Object.values(value).flatMap(values) : value === undefined ? [] : [String(value)];
  return layers.flatMap(values);
}

/**
 * The destination with its secret fields: stored ones (a `credentials` reference), then inline
 * sealed ones; and their values, which no recorded or logged text may contain.
 */
export async function resolveSecrets(
  message: Pick<DeliveryMessage, 'token' | 'index' | 'destination' | 'sealed'>,
  definition: DestinationDefinition,
  dependencies: Pick<DeliveryDependencies, 'secrets' | 'sealer'>,
  secretValues: string[],
): Promise<Record<string, unknown>> {
  const reference = message.destination.credentials;
  const stored: SecretFields = typeof reference === 'string' ? await dependencies.secrets.read(secretNames.credentials(reference)) : {};
  secretValues.push(...secretValuesOf(stored));
  const unexpected = unexpectedSecretFields(definition.schema, stored);
  if (unexpected.length > 0) {
    throw new PermanentError(`credentials: secret '${String(reference)}' holds ${unexpected.join(', ')}, which ${definition.type} does not take as a secret`, {
      code: 'InvalidSecret',
    });
  }
  const context = sealingContext(sealedFor(message.token, message.index, definition, message.destination));
  const inline = message.sealed ? ((await dependencies.sealer.unseal(message.sealed, context)) as SecretFields) : {};
  secretValues.push(...secretValuesOf(stored, inline));
  return mergeSecrets(definition.schema, message.destination, stored, inline);
}

/**
 * Fails at once, naming the field and its host, a destination whose endpoint plainly names a
 * refused place: the ingress checks this too, but a queue message need not have come through it.
 * What names resolve to is checked where it counts, by the guarded connections when they connect.
 * The address is not quoted whole: its query may hold a signature, and as the message carries it
 * (not as URL writes it) a space or a quote in it would end the URL that redaction recognises.
 */
export function checkEndpoints(definition: DestinationDefinition, destination: Record<string, unknown>, network: OutboundNetwork): void {
  if (network.allowPrivateNetworks) return;
  for (const { field, address } of definition.endpointsOf(destination)) {
    if (namesPrivateNetwork(address)) {
      throw new PermanentError(`${field}: '${hostOf(address)}' is on a private network`, { code: 'EndpointNotAllowed' });
    }
  }
}

/** Stored credentials go only where they are meant for (the ingress refuses the rest, but a message need not have come through it). */
export function checkCredentialHosts(definition: DestinationDefinition, destination: Record<string, unknown>, operatorHosts: readonly string[]): void {
  const [untrusted] = untrustedCredentialEndpoints(definition, destination, operatorHosts);
  if (untrusted) throw new PermanentError(`${untrusted.field}: ${untrusted.message}`, { code: 'CredentialHostNotAllowed' });
}

/**
 * Sends the job's callback when this delivery was the last to finish (once per distinct outcome).
 * A job without a callback URL costs no read here; nor does a job of one destination whose
 * delivery this attempt has just `finished`: its job is the item the callback claim returns with
 * that destination's item as the attempt wrote it. Returns when to look again when another
 * finisher holds the callback's claim without having recorded it sent.
 */
async function callBackIfFinished(message: DeliveryMessage, dependencies: DeliveryDependencies, finished?: FinishedItem): Promise<Date | undefined> {
  if (!message.notify) return undefined;
  const { token } = message;
  const alone = message.destinations === 1 && finished !== undefined && isFinal(String(finished.state) as DestinationState);
  let job: Job | undefined;
  let outcome: string;
  let claimed: Record<string, unknown>;
  if (alone) {
    outcome = String(finished.state);
    const claim = await dependencies.jobs.claimCallback(token, outcome, dependencies.leaseSeconds);
    if (claim.kind !== 'claimed') return claim.kind === 'held' ? claim.until : undefined;
    claimed = claim.item;
    job = jobFromItems([claim.item, finished]);
    if (!job?.sealedCallbackUrl) return undefined;
  } else {
    job = await dependencies.jobs.get(token);
    if (!job?.sealedCallbackUrl || !job.destinations.every((destination) => isFinal(destination.state))) return undefined;
    outcome = job.destinations.map((destination) => destination.state).join(',');
    const claim = await dependencies.jobs.claimCallback(token, outcome, dependencies.leaseSeconds);
    if (claim.kind !== 'claimed') return claim.kind === 'held' ? claim.until : undefined;
    claimed = claim.item;
  }
  let sent: Awaited<ReturnType<typeof sendCallback>>;
  try {
    const { url } = (await dependencies.sealer.unseal(job.sealedCallbackUrl, callbackSealingContext(token))) as { url: string };
    sent = await sendCallback(url, jobView(job), { ...dependencies.callbacks, network: dependencies.network });
  } catch (error) {
    // Claimed but not sent (the signing key or KMS unreachable for now): the message comes back
    // once the claim has run out (as a claim held by another is waited for) and sends it then, or
    // the callback would be lost.
    dependencies.log.error('callback failed', { token, reason: describeError(error) });
    return new Date((Number(claimed.callbackLeaseUntil) + 1) * 1000);
  }
  await dependencies.jobs.recordCallback(token, { ...sent, outcome, at: new Date().toISOString() });
  dependencies.log.info('callback', { token, state: sent.state, attempts: sent.attempts, status: sent.status });
  return undefined;
}

/** A failure as a log line may show it: its description, without the delivery's secret values. */
function logged(error: unknown, secretValues: readonly string[]): string {
  return redactText(describeError(error), secretValues);
}

/**
 * The resume state of one attempt: what earlier attempts saved for this same source (a changed
 * source starts again, and what was saved for the old one is discarded), and the latest saved.
 */
class AttemptResume<State> implements ResumeSlot<State> {
  /** What the upload may continue from: saved for this very source. */
  public state: State | undefined;
  private saved: { readonly state: State | undefined } | undefined;
  private source: SourceReader | undefined;
  private discardUnsaved: ((state: State) => Promise<void>) | undefined;

  public constructor(
    private readonly message: DeliveryMessage,
    private readonly delivery: SealedFor,
    private readonly claim: Extract<Claim, { kind: 'claimed' }>,
    private readonly sealed: boolean,
    private readonly dependencies: DeliveryDependencies,
    /** The delivery's secret values, kept out of what is logged (filled in once they are read). */
    private readonly secretValues: readonly string[],
  ) {}

  public get earlierAttemptsSince(): Date | undefined {
    return this.claim.attempts > 1 ? new Date(this.claim.startedAt) : undefined;
  }

  /** What the store holds for this delivery now (to discard when the delivery finally fails). */
  public async held(): Promise<State | undefined> {
    if (this.saved) return this.saved.state;
    const stored = this.claim.resume;
    const context = resumeSealingContext(this.delivery);
    const state = (stored?.sealed === undefined ? stored?.state : await this.dependencies.sealer.unseal(stored.sealed, context)) as State | undefined;
    this.saved = { state };
    return state;
  }

  /** Offers what was saved to an upload of `source`; returns it instead when it was saved for another version. */
  public async offer(source: SourceReader): Promise<State | undefined> {
    this.source = source;
    const stored = this.claim.resume;
    const state = await this.held();
    if (state === undefined) return undefined;
    // Only a source that names its version (ETag, Last-Modified) can be known to be the same file.
    if (stored?.sourceVersion !== undefined && stored.sourceSize === source.size && stored.sourceVersion === source.version) {
      this.state = state;
      return undefined;
    }
    return state;
  }

  /** Forgets what was held, once it has been discarded. */
  public forget(): void {
    this.saved = { state: undefined };
  }

  /** How to remove what an upload made when its first state could not be saved. */
  public whenUnsaved(discard: (state: State) => Promise<void>): void {
    this.discardUnsaved = discard;
  }

  public async save(state: State): Promise<void> {
    const context = resumeSealingContext(this.delivery);
    const size = this.source?.size;
    const version = this.source?.version;
    const resume: StoredResume = {
      ...(this.sealed ? { sealed: await this.dependencies.sealer.seal(state, context) } : { state }),
      ...(size === undefined ? {} : { sourceSize: size }),
      ...(version === undefined ? {} : { sourceVersion: version }),
    };
    try {
      await this.dependencies.jobs.saveResume(this.message.token, this.message.index, this.claim.attemptId, resume);
    } catch (error) {
      // An upload's first state names what it has just made (a multipart upload, a session, a
      // temporary file). Unsaved, no later attempt would know of it, and nothing would remove it
      // when the delivery ends: it is removed now. (A later state names what an earlier one
      // already does.)
      if ((await this.held()) === undefined && this.discardUnsaved) {
        await this.discardUnsaved(state).catch((failure: unknown) =>
          this.dependencies.log.warn('could not discard an upload whose state was not saved', {
            token: this.message.token,
            reason: logged(failure, this.secretValues),
          }),
        );
      }
      throw error;
    }
    this.saved = { state };
  }
}

/** Writes the running upload's progress every few seconds (never a write per chunk). */
function reportProgress(source: SourceReader, write: (bytes: number) => Promise<void>, seconds: number, log: Logger): () => void {
  let written = 0;
  const timer = setInterval(() => {
    const position = source.position;
    if (position === written) return;
    written = position;
    write(position).catch((error: unknown) => log.warn('could not record progress', { reason: describeError(error) }));
  }, seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Delivers one destination of one job: claim it (a finished or busy destination is never uploaded
 * twice), resolve its credentials, open the source, upload (continuing what an earlier attempt
 * saved), record the result and call back. Permanent failures are recorded and end the delivery,
 * discarding what was kept for a resume; transient ones ask the queue for a retry until the last
 * attempt, which is recorded as failed and dead-lettered; a destination that asks to wait (a
 * quota) is deferred without spending an attempt.
 */
export async function deliver<Schema extends z.ZodMiniObject, State>(
  message: DeliveryMessage,
  receiveCount: number,
  { definition, uploader }: DestinationModule<Schema, State>,
  dependencies: DeliveryDependencies,
  signal: AbortSignal,
): Promise<DeliveryOutcome> {
  const { jobs, log } = dependencies;
  const { token, index } = message;
  if (message.notBefore !== undefined && Date.parse(message.notBefore) > Date.now()) return { kind: 'defer', until: new Date(message.notBefore) };
  // A failed callback never fails a delivery that has happened (that would upload it again).
  const callBack = (finished?: FinishedItem): Promise<Date | undefined> =>
    callBackIfFinished(message, dependencies, finished).catch((error: unknown) => {
      log.error('callback failed', { token, reason: describeError(error) });
      return undefined;
    });
  /** While another sender's claim on the callback holds, or this one could not send it, the message comes back after the claim. */
  const callBackLater = async (finished?: FinishedItem): Promise<DeliveryOutcome> => {
    const heldUntil = await callBack(finished);
    return heldUntil ? { kind: 'defer', until: heldUntil } : { kind: 'done' };
  };
  if (message.callbackOnly) return callBackLater();
  const claim = await jobs.claim(token, index, dependencies.leaseSeconds);
  if (claim.kind === 'finished') {
    log.info('delivery already finished; message ignored', { token, index, state: claim.state });
    // The attempt that finished it may have ended (a crash, a timeout) before its callback went.
    return callBackLater();
  }
  if (claim.kind === 'busy') {
    const error = new TransientError('another attempt holds this delivery', { code: 'Busy' });
    return { kind: 'retry', delaySeconds: dependencies.leaseSeconds, error };
  }
  const started = Date.now();
  log.info('delivery started', { token, index, type: definition.type, attempt: claim.attempts });
  let destination: z.output<Schema> | undefined;
  const secretValues: string[] = [];
  const resume = new AttemptResume<State>(
    message,
    sealedFor(token, index, definition, message.destination),
    claim,
    definition.capabilities?.resumable?.sealed ?? false,
    dependencies,
    secretValues,
  );
  let source: SourceReader | undefined;
  let stopProgress = (): void => undefined;
  /** How the uploader reaches its destination, once the destination is known. */
  let reach: Reach | undefined;
  let delivered: DeliveredFile;
  let finished: FinishedItem;
  try {
    try {
      destination = parseOrThrow(definition.schema, await resolveSecrets(message, definition, dependencies, secretValues), ['destination']) as z.output<Schema>;
    } catch (error) {
      if (error instanceof ValidationError) throw new PermanentError(error.message, { code: 'InvalidDestination', cause: error });
      throw error;
    }
    checkEndpoints(definition, destination as Record<string, unknown>, dependencies.network);
    checkCredentialHosts(definition, destination as Record<string, unknown>, dependencies.credentialHosts ?? []);
    reach = {
      network: dependencies.network,
      credentials: storedCredentials(message, dependencies),
      application: definition.applicationSecret ? await applicationSecret(definition.type, dependencies) : undefined,
    };
    const budget = dependencies.maxDeliverySeconds ?? serviceDefaults.maxDeliverySeconds;
    if (Date.now() - Date.parse(claim.startedAt) > budget * 1000) {
      throw new PermanentError(`the delivery has taken longer than the ${budget} s one delivery may take, retries and waits included`, { code: 'DeliveryExpired' });
    }
    const from = await openableSource(message, dependencies.sealer);
    const opened = await dependencies.sources.open(from, message.extension, signal);
    source = new SourceReader(opened, {
      reopen: (offset, bounds) => dependencies.sources.open(from, message.extension, signal, offset, bounds),
      maxBytes: Math.min(definition.capabilities?.maxBytes ?? Infinity, dependencies.maxSourceBytes ?? serviceDefaults.maxSourceBytes),
      ...(dependencies.sourceIdleSeconds === undefined ? {} : { idleSeconds: dependencies.sourceIdleSeconds }),
    });
    destination = withFolderPathsCompleted(definition.schema, destination, source.name);
    const discard = uploader.discard?.bind(uploader);
    if (discard) {
      const reached = reach;
      const completed = destination;
      resume.whenUnsaved((state) => discard({ destination: completed, state, signal: AbortSignal.timeout(30_000), ...reached }));
    }
    const stale = await resume.offer(source);
    if (stale !== undefined && uploader.discard) {
      // The source changed since the upload began: what was kept for it cannot be continued. Its
      // removal is housekeeping: failing it must not fail (or, refused, end) the new upload.
      await uploader.discard({ destination, state: stale, signal, ...reach }).catch((error: unknown) =>
        log.warn('could not discard the upload kept for an earlier version of the source', { token, index, reason: logged(error, secretValues) }),
      );
      resume.forget();
    }
    stopProgress = reportProgress(source, (bytes) => jobs.recordProgress(token, index, claim.attemptId, bytes), dependencies.progressSeconds ?? 5, log);
    delivered = await runUpload(uploader, {
      destination,
      source,
      signal,
      resume,
      deliveryKey: deliveryKeyOf(token, index),
      ...reach,
    });
    stopProgress();
    finished = await jobs.succeed(token, index, claim.attemptId, delivered);
  } catch (thrown) {
    stopProgress();
    const error = classifyFailure(uploader as Uploader<unknown, unknown>, thrown);
    // The one step every failure's text passes before it is recorded, called back or logged.
    const reason = redactText(error.message, secretValues);
    if (error instanceof WaitError) {
      await jobs.wait(token, index, claim.attemptId, error.until, { code: error.code, message: reason, retryable: true });
      log.info('delivery waits', { token, index, code: error.code, until: error.until.toISOString() });
      dependencies.observe?.({ kind: 'waiting', type: definition.type, code: error.code });
      return { kind: 'defer', until: error.until };
    }
    const startedFrom = source?.startOffset;
    // An upload that keeps moving forward (each attempt of a large file cut short by the function's
    // timeout, then continued) is not failing: when its last attempt began further into the file
    // than the one before, it goes on, on a fresh message, bounded by the time one delivery may take.
    const advancing = startedFrom !== undefined && claim.previousStart !== undefined && startedFrom > claim.previousStart;
    if (error.retryable && receiveCount >= dependencies.maxAttempts && advancing) {
      await jobs.fail(token, index, claim.attemptId, { code: error.code, message: reason, retryable: true }, false, startedFrom);
      log.info('delivery goes on in a new attempt', { token, index, code: error.code, from: startedFrom });
      dependencies.observe?.({ kind: 'failed', type: definition.type, code: error.code, final: false, attempts: claim.attempts });
      return { kind: 'defer', until: new Date(Date.now() + nextDelaySeconds(error, 1, dependencies.retryBaseSeconds) * 1000) };
    }
    const final = !error.retryable || receiveCount >= dependencies.maxAttempts;
    if (final && reach) await discardHeld(uploader, destination, resume, reach, dependencies.log, { token, index }, secretValues);
    const failed = await jobs.fail(token, index, claim.attemptId, { code: error.code, message: reason, retryable: error.retryable }, final, startedFrom);
    log.warn('delivery failed', { token, index, code: error.code, reason, retryable: error.retryable, final, attempt: receiveCount });
    dependencies.observe?.({ kind: 'failed', type: definition.type, code: error.code, final, attempts: claim.attempts });
    if (!error.retryable) return callBackLater(failed);
    const callbackPending = final ? await callBack(failed) : undefined;
    // A transient failure on its last attempt goes back to the queue at once: the next receive
    // moves it to the dead-letter queue, ready for redrive.
    return {
      kind: 'retry',
      delaySeconds: final ? 0 : nextDelaySeconds(error, receiveCount, dependencies.retryBaseSeconds),
      error,
      ...(callbackPending ? { callbackAt: callbackPending } : {}),
    };
  } finally {
    source?.close();
  }
  const milliseconds = Date.now() - started;
  log.info('delivery succeeded', { token, index, bytes: delivered.bytes, milliseconds });
  dependencies.observe?.({
    kind: 'succeeded',
    type: definition.type,
    bytes: delivered.bytes,
    bytesSent: delivered.bytes - (source?.startOffset ?? 0),
    milliseconds,
    attempts: claim.attempts,
    acceptedAt: message.acceptedAt,
  });
  return callBackLater(finished);
}

/** An opaque name of one delivery, the same in every attempt, that tells a server nothing of the job. */
function deliveryKeyOf(token: string, index: number): string {
  return createHash('sha256').update(`upload-destinations:${token}#${index}`).digest('base64url').slice(0, 32);
}

/** The message's source as the opener takes it: a sealed URL opened, an object as it is. */
async function openableSource(message: DeliveryMessage, sealer: EnvelopeSealer): Promise<OpenableSource> {
  if (!('sealedUrl' in message.source)) return message.source;
  const { url } = (await sealer.unseal(message.source.sealedUrl, sourceSealingContext(message.token))) as { url: string };
  return { url };
}

/** The network, stored credentials and application secret an uploader reaches its destination with. */
type Reach = Required<Pick<UploadContext<unknown, unknown>, 'network' | 'credentials'>> & Pick<UploadContext<unknown, unknown>, 'application'>;

/** Nothing partial outlives a delivery that has failed for good: what was kept for a resume is removed. */
async function discardHeld<Destination, State>(
  uploader: Uploader<Destination, State>,
  destination: Destination | undefined,
  resume: AttemptResume<State>,
  reach: Reach,
  log: Logger,
  where: { token: string; index: number },
  secretValues: readonly string[],
): Promise<void> {
  if (destination === undefined || !uploader.discard) return;
  try {
    const state = await resume.held();
    if (state !== undefined) await uploader.discard({ destination, state, signal: AbortSignal.timeout(30_000), ...reach });
  } catch (error) {
    log.warn('could not discard the partial upload', { ...where, reason: logged(error, secretValues) });
  }
}

export function storedCredentials(message: Pick<DeliveryMessage, 'destination'>, dependencies: Pick<DeliveryDependencies, 'secrets'>): StoredCredentials {
  return {
    reference: typeof message.destination.credentials === 'string' ? message.destination.credentials : undefined,
    read: (reference) => dependencies.secrets.read(secretNames.credentials(reference)),
    update: (reference, fields) => dependencies.secrets.update(secretNames.credentials(reference), fields),
  };
}

/**
 * The destination's application secret, or undefined when the operator has not stored one: only
 * some deliveries need it (YouTube's `auth_secret`, not its `oauth_access_token`), and the uploader
 * says what is missing when one does.
 */
export async function applicationSecret(type: string, dependencies: Pick<DeliveryDependencies, 'secrets'>): Promise<Record<string, string> | undefined> {
  let fields: SecretFields;
  try {
    fields = await dependencies.secrets.read(secretNames.application(type));
  } catch (error) {
    if (error instanceof PermanentError && error.code === 'SecretNotFound') return undefined;
    throw error;
  }
  return Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, String(value)]));
}
