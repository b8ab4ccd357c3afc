import type { StoredSource } from '../contract/source.ts';

export type DestinationState = 'queued' | 'uploading' | 'retrying' | 'waiting' | 'succeeded' | 'failed';

export interface RecordedError {
  readonly code: string;
  readonly message: string;
  /** True when the failure was transient and the delivery went to the dead-letter queue (redrive retries it). */
  readonly retryable: boolean;
}

/** What a delivered destination records: where the file is, and what exactly was sent. */
export interface DeliveredFile {
  readonly url: string;
  readonly bytes: number;
  /** Checksum of the whole file, summed while it was read. */
  readonly checksum: { readonly algorithm: 'crc32'; readonly value: string };
  readonly details?: Readonly<Record<string, string | number>>;
  readonly notes?: readonly string[];
}

/**
 * What an upload saved to continue in a later attempt, and which version of the source it was
 * for: a different source starts again. `sealed` holds it encrypted when it is a capability.
 */
export interface StoredResume {
  readonly state?: unknown;
  readonly sealed?: string;
  readonly sourceSize?: number;
  readonly sourceVersion?: string;
}

/** One destination of a job and how its delivery went. Holds no secret. */
export interface DestinationRecord {
  readonly index: number;
  readonly type: string;
  /** The destination's fields with every secret field removed. */
  readonly destination: Readonly<Record<string, unknown>>;
  /** The destination's inline secret fields, envelope-sealed (never in clear). */
  readonly sealed?: string;
  readonly state: DestinationState;
  readonly attempts: number;
  readonly url?: string;
  readonly bytes?: number;
  /** Bytes of the file read so far by the running upload (updated every few seconds). */
  readonly bytesSent?: number;
  readonly checksum?: { readonly algorithm: string; readonly value: string };
  readonly details?: Readonly<Record<string, string | number>>;
  readonly notes?: readonly string[];
  /** `waiting`: when the destination will take the file (a quota's reset). */
  readonly waitUntil?: string;
  readonly error?: RecordedError;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly updatedAt: string;
}

export interface CallbackRecord {
  readonly state: 'sent' | 'failed';
  readonly attempts: number;
  /** The outcome the callback reported (one callback per distinct outcome). */
  readonly outcome: string;
  readonly status?: number;
  readonly error?: string;
  readonly at: string;
}

/** A job: one file, one or more destinations. Holds no secret. */
export interface JobRecord {
  readonly token: string;
  readonly createdAt: string;
  /** Empty for a rejected job. */
  readonly source: StoredSource | Record<string, never>;
  readonly extension?: string;
  /** The callback URL, sealed: webhook URLs often carry a token. */
  readonly sealedCallbackUrl?: string;
  readonly idempotencyKey?: string;
  /** How the job came in: `api`, `s3` or `inbox`. */
  readonly origin: string;
  /** Set once every destination's message is on its queue (for jobs with an idempotency key or a presigned upload). */
  readonly enqueued: boolean;
  /** A presigned-upload job waits for its file to land in the staging bucket before it is queued. */
  readonly awaitingSource?: boolean;
  /** Why a job from the S3 or inbox door was refused (it then has no destinations). */
  readonly rejected?: { readonly errors: readonly { readonly path: string; readonly message: string }[] };
  readonly destinationCount: number;
  readonly callback?: CallbackRecord;
}

export interface Job extends JobRecord {
  readonly destinations: readonly DestinationRecord[];
}

/** A job's state, as its destinations' states sum up. */
export const jobStates = ['rejected', 'awaiting_source', 'queued', 'in_progress', 'succeeded', 'failed', 'partially_failed'] as const;

export type JobState = (typeof jobStates)[number];

/** The job's overall state, derived from its destinations. */
export function jobState(job: Pick<Job, 'destinations' | 'rejected' | 'awaitingSource' | 'enqueued'>): JobState {
  if (job.rejected) return 'rejected';
  if (job.awaitingSource && !job.enqueued) return 'awaiting_source';
  const states = job.destinations.map((destination) => destination.state);
  if (states.every((state) => state === 'queued')) return 'queued';
  if (states.some((state) => state !== 'succeeded' && state !== 'failed')) return 'in_progress';
  if (states.every((state) => state === 'succeeded')) return 'succeeded';
  if (states.every((state) => state === 'failed')) return 'failed';
  return 'partially_failed';
}

export function isFinal(state: DestinationState): boolean {
  return state === 'succeeded' || state === 'failed';
}
