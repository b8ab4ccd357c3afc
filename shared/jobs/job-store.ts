import { isAwsError } from '../net/aws-json-client.ts';
import type { DocumentTable, Item } from './document-table.ts';
import type { CallbackRecord, DeliveredFile, DestinationRecord, Job, JobRecord, RecordedError, StoredResume } from './records.ts';
import { jobListKeys } from './list-keys.ts';
import { jobListIndex, jobTableKeys } from './table-keys.ts';

export const jobItem = 'job';
export const destinationItem = (index: number): string => `destination#${String(index).padStart(3, '0')}`;
const idempotencyToken = (key: string): string => `idempotency#${key}`;
/** The item under a door's token whose request was an earlier job's: it names that job. */
const aliasItem = 'alias';
/** The partition of the places of requests waiting for their delivery. */
const syncWaiters = 'sync-waiters';
/** What DynamoDB answers a write whose condition does not hold. */
const conditionFailed = 'ConditionalCheckFailedException';
const { partition, sort, expiry } = jobTableKeys;

/** The table key of one item of a job. */
export function itemKey(token: string, item: string): Record<string, string> {
  return { [partition]: token, [sort]: item };
}

function withoutAttributes(item: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !names.includes(name)));
}

/** A destination item as the job shows it: without its keys and an attempt's working state. */
function destinationFromItem(item: Record<string, unknown>): DestinationRecord {
  return withoutAttributes(item, [partition, sort, expiry, 'attemptId', 'leaseUntil', 'resume', 'resumedFrom', 'retriedAt']) as unknown as DestinationRecord;
}

/** The job of a job item and its destination items (any order, other items ignored), or undefined without a job item. */
export function jobFromItems(items: readonly Record<string, unknown>[]): Job | undefined {
  const job = items.find((item) => item[sort] === jobItem);
  if (!job) return undefined;
  const destinations = items
    .filter((item) => String(item[sort]).startsWith('destination#'))
    .map(destinationFromItem)
    .sort((a, b) => a.index - b.index);
  const record = withoutAttributes(job, [sort, expiry, 'callbackOutcome', 'callbackLeaseUntil', jobListIndex.partition, jobListIndex.sort]) as unknown as JobRecord;
  return { ...record, destinations };
}

/** A destination's item as its attempt's last write left it: with the job's item, a job of one destination ({@link jobFromItems}). */
export type FinishedItem = Readonly<Record<string, unknown>>;

/** What a delivery attempt found when it tried to claim its destination. */
export type Claim =
  | {
      readonly kind: 'claimed';
      readonly attemptId: string;
      readonly attempts: number;
      /** When the delivery's first attempt began. */
      readonly startedAt: string;
      /** Where in the file the previous attempt's upload started (what the destination had then). */
      readonly previousStart: number | undefined;
      readonly resume: StoredResume | undefined;
    }
  | { readonly kind: 'finished'; readonly state: 'succeeded' | 'failed' }
  | { readonly kind: 'busy' };

/**
 * Jobs and the state of each of their destinations, in one DynamoDB table: the job's token is the
 * partition key, `job` and `destination#NNN` the sort keys; idempotency keys are items of their own,
 * and a door's token whose request was an earlier job holds an `alias` item naming it.
 * Every state change is a conditional write, so redelivered or concurrent messages never upload twice.
 */
/** Whether a finisher may send a job's callback for an outcome. */
export type CallbackClaim =
  | { readonly kind: 'claimed'; readonly item: Record<string, unknown> }
  /** It was sent for this outcome, and recorded. */
  | { readonly kind: 'sent' }
  /** Another finisher holds the claim until `until` and has not recorded sending it: it may have ended. */
  | { readonly kind: 'held'; readonly until: Date };

export class JobStore {
  public constructor(
    private readonly table: DocumentTable,
    private readonly retentionDays: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private expiresAt(): number {
    return Math.floor(this.now().getTime() / 1000) + this.retentionDays * 86_400;
  }

  /**
   * Reserves an idempotency key for `token`. Returns the token already holding the key and the
   * fingerprint of its request, or undefined when the key was free.
   */
  public async reserveIdempotencyKey(key: string, token: string, fingerprint: string): Promise<{ token: string; fingerprint: string } | undefined> {
    try {
      await this.table.put(
        { ...itemKey(idempotencyToken(key), jobItem), jobToken: token, fingerprint, [expiry]: this.expiresAt() },
        { ConditionExpression: 'attribute_not_exists(#token)', ExpressionAttributeNames: { '#token': partition } },
      );
      return undefined;
    } catch (error) {
      if (!isAwsError(error, conditionFailed)) throw error;
      const held = await this.table.get(itemKey(idempotencyToken(key), jobItem));
      return { token: String(held?.jobToken), fingerprint: String(held?.fingerprint) };
    }
  }

  /** A job's own item: the record, its key, the listing's keys and when it expires. */
  private jobItemOf(job: JobRecord, expiresAt: number): Item {
    return { ...job, ...itemKey(job.token, jobItem), ...jobListKeys(job.token, job.createdAt), [expiry]: expiresAt };
  }

  /** Writes a new job and its destinations, all `queued`. */
  public async create(job: JobRecord, destinations: readonly Pick<DestinationRecord, 'type' | 'destination' | 'sealed'>[]): Promise<void> {
    const at = job.createdAt;
    const expiresAt = this.expiresAt();
    const items = [
      this.jobItemOf(job, expiresAt),
      ...destinations.map((destination, index) => ({
        ...itemKey(job.token, destinationItem(index)),
        index,
        type: destination.type,
        destination: destination.destination,
        sealed: destination.sealed,
        state: 'queued',
        attempts: 0,
        updatedAt: at,
        [expiry]: expiresAt,
      })),
    ];
    // BatchWrite takes 25 items; a job has at most 11.
    let pending: Item[] = items;
    for (let round = 0; pending.length > 0; round += 1) {
      if (round > 5) throw new Error(`could not write job ${job.token}: DynamoDB kept items unprocessed`);
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      pending = await this.table.batchPut(pending);
    }
  }

  /**
   * Writes a rejected job (no destinations), unless a job already holds its token: a door's token
   * is also its idempotency key, so a later request refused for reusing it must not hide the job
   * that holds it.
   */
  public async createRejected(job: JobRecord): Promise<void> {
    try {
      await this.table.put(
        this.jobItemOf(job, this.expiresAt()),
        { ConditionExpression: 'attribute_not_exists(#token)', ExpressionAttributeNames: { '#token': partition } },
      );
    } catch (error) {
      if (!isAwsError(error, conditionFailed)) throw error;
    }
  }

  public async markEnqueued(token: string): Promise<void> {
    await this.table.update(itemKey(token, jobItem), { UpdateExpression: 'SET enqueued = :true', ExpressionAttributeValues: { ':true': true } });
  }

  /**
   * Notes under a door's `token` that its request is the earlier job `jobToken` (by its idempotency
   * key), so that a sender told to look under `token` finds that job. It names the job and nothing
   * more, is kept as long as a job, and a redelivered message only writes it again.
   */
  public async alias(token: string, jobToken: string): Promise<void> {
    await this.table.put({ ...itemKey(token, aliasItem), jobToken, [expiry]: this.expiresAt() });
  }

  /**
   * The job under `token`, or the job its alias names ({@link alias}), whose own token the answer
   * then carries. An alias is followed once: it always names a job's own token.
   */
  public async get(token: string): Promise<Job | undefined> {
    const items = await this.itemsOf(token);
    const alias = items.find((item) => item[sort] === aliasItem);
    // A job under the token itself wins: the alias may outlive an idempotency key whose expiry let
    // a redelivered message make a job of its own.
    return jobFromItems(items) ?? (alias ? jobFromItems(await this.itemsOf(String(alias.jobToken))) : undefined);
  }

  private async itemsOf(token: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.table.query({
        KeyConditionExpression: '#token = :token',
        ExpressionAttributeNames: { '#token': partition },
        ExpressionAttributeValues: { ':token': token },
        ConsistentRead: true,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      items.push(...page.items);
      startKey = page.lastKey;
    } while (startKey);
    return items;
  }

  /**
   * Puts destination `index` of a failed job back in the queue's hands (`queued`), if it failed
   * after every attempt (dead-lettered), or failed for good and `permanent` says to try it anyway.
   * A destination a retry already requeued, still waiting to be claimed, may be requeued again:
   * its message may not have been sent. Answers what it found otherwise.
   */
  public async requeue(token: string, index: number, permanent: boolean): Promise<'requeued' | 'missing' | DestinationRecord> {
    const now = this.now().toISOString();
    const failedCondition = permanent ? '#state = :failed' : '(#state = :failed AND #error.retryable = :true)';
    try {
      await this.table.update(itemKey(token, destinationItem(index)), {
        UpdateExpression: 'SET #state = :queued, updatedAt = :now, retriedAt = :now REMOVE #error, finishedAt, startedAt, resumedFrom, waitUntil, bytesSent',
        ConditionExpression: `attribute_exists(#token) AND (${failedCondition} OR (#state = :queued AND attribute_exists(retriedAt)))`,
        ExpressionAttributeNames: { '#state': 'state', '#token': partition, '#error': 'error' },
        ExpressionAttributeValues: { ':failed': 'failed', ':queued': 'queued', ':now': now, ...(permanent ? {} : { ':true': true }) },
      });
      return 'requeued';
    } catch (error) {
      if (!isAwsError(error, conditionFailed)) throw error;
      const found = await this.table.get(itemKey(token, destinationItem(index)));
      return found ? destinationFromItem(found) : 'missing';
    }
  }

  /**
   * Claims destination `index` for one attempt. A destination that is queued, retrying, waiting,
   * dead-lettered (failed with a retryable error, then redriven) or held by an attempt whose lease
   * ran out can be claimed, with the resume state earlier attempts saved; a finished one answers
   * `finished`; one held by a live attempt answers `busy`.
   */
  public async claim(token: string, index: number, leaseSeconds: number): Promise<Claim> {
    const now = this.now();
    const attemptId = crypto.randomUUID();
    try {
      const claimed = await this.table.update(itemKey(token, destinationItem(index)), {
        UpdateExpression:
          'SET #state = :uploading, attemptId = :attemptId, leaseUntil = :leaseUntil, startedAt = if_not_exists(startedAt, :now), updatedAt = :now ADD attempts :one',
        // AND binds before OR. A missing item has no state, so no branch holds for it (UpdateItem
        // would otherwise make one). No parentheses: dynalite, the local table, backtracks over
        // nested ones and took 0.95 ms of CPU to parse this condition with them, 0.08 without.
        ConditionExpression:
          '#state IN (:queued, :retrying, :waiting) OR #state = :uploading AND leaseUntil < :nowSeconds OR #state = :failed AND #error.retryable = :true',
        ExpressionAttributeNames: { '#state': 'state', '#error': 'error' },
        ExpressionAttributeValues: {
          ':uploading': 'uploading',
          ':queued': 'queued',
          ':retrying': 'retrying',
          ':waiting': 'waiting',
          ':failed': 'failed',
          ':true': true,
          ':attemptId': attemptId,
          ':leaseUntil': Math.floor(now.getTime() / 1000) + leaseSeconds,
          ':nowSeconds': Math.floor(now.getTime() / 1000),
          ':now': now.toISOString(),
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      });
      return {
        kind: 'claimed',
        attemptId,
        attempts: Number(claimed?.attempts ?? 1),
        startedAt: String(claimed?.startedAt ?? now.toISOString()),
        previousStart: typeof claimed?.resumedFrom === 'number' ? claimed.resumedFrom : undefined,
        resume: claimed?.resume as StoredResume | undefined,
      };
    } catch (error) {
      if (!isAwsError(error, conditionFailed)) throw error;
      const found = await this.table.get(itemKey(token, destinationItem(index)));
      if (!found) throw new Error(`job ${token} has no destination ${index}`, { cause: error });
      if (found.state === 'succeeded' || found.state === 'failed') return { kind: 'finished', state: found.state };
      return { kind: 'busy' };
    }
  }

  /**
   * Writes `set` (and removes `remove`) on the destination, if `attemptId` still holds it. With
   * `returning: 'item'` it returns the destination's item as written (else an empty object: the
   * writes made while an upload runs need nothing back).
   */
  private async updateAttempt(
    token: string,
    index: number,
    attemptId: string,
    set: Record<string, unknown>,
    remove: readonly string[],
    returning: 'item' | 'nothing' = 'nothing',
  ): Promise<Record<string, unknown>> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':attemptId': attemptId };
    const assignments = Object.entries(set).map(([name, value], position) => {
      names[`#f${position}`] = name;
      values[`:v${position}`] = value;
      return `#f${position} = :v${position}`;
    });
    const written = await this.table.update(itemKey(token, destinationItem(index)), {
      UpdateExpression: `SET ${assignments.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
      // Only the attempt holding the claim may record its outcome.
      ConditionExpression: 'attemptId = :attemptId',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: returning === 'item' ? 'ALL_NEW' : 'NONE',
    });
    return written ?? {};
  }

  /** Records the delivery done; returns the destination's item as written (`FinishedItem`). */
  public async succeed(token: string, index: number, attemptId: string, file: DeliveredFile): Promise<FinishedItem> {
    const now = this.now().toISOString();
    return this.updateAttempt(
      token,
      index,
      attemptId,
      {
        state: 'succeeded',
        url: file.url,
        bytes: file.bytes,
        bytesSent: file.bytes,
        checksum: file.checksum,
        details: file.details ?? {},
        ...(file.notes && file.notes.length > 0 ? { notes: file.notes } : {}),
        error: null,
        finishedAt: now,
        updatedAt: now,
      },
      ['leaseUntil', 'resume', 'waitUntil'],
      'item',
    );
  }

  /**
   * Records a failure: final (`failed`, its resume state gone) or to be retried (`retrying`, resume
   * state kept, with where in the file this attempt's upload started). A final one returns the
   * destination's item as written (`FinishedItem`).
   */
  public async fail(token: string, index: number, attemptId: string, error: RecordedError, final: boolean, startedFrom?: number): Promise<FinishedItem> {
    const now = this.now().toISOString();
    return this.updateAttempt(
      token,
      index,
      attemptId,
      {
        state: final ? 'failed' : 'retrying',
        error,
        updatedAt: now,
        ...(final ? { finishedAt: now } : {}),
        ...(startedFrom === undefined ? {} : { resumedFrom: startedFrom }),
      },
      final ? ['leaseUntil', 'resume', 'waitUntil'] : ['leaseUntil'],
      final ? 'item' : 'nothing',
    );
  }

  /** Records that the destination will take the file only at `until` (a quota): `waiting`, no attempt spent. */
  public async wait(token: string, index: number, attemptId: string, until: Date, reason: RecordedError): Promise<void> {
    const now = this.now().toISOString();
    await this.updateAttempt(token, index, attemptId, { state: 'waiting', waitUntil: until.toISOString(), error: reason, updatedAt: now }, ['leaseUntil']);
  }

  /** Saves what a later attempt needs to continue this upload. */
  public async saveResume(token: string, index: number, attemptId: string, resume: StoredResume): Promise<void> {
    await this.updateAttempt(token, index, attemptId, { resume }, []);
  }

  /** Notes how many bytes of the file the running upload has read (shown as `bytes_sent`). */
  public async recordProgress(token: string, index: number, attemptId: string, bytesSent: number): Promise<void> {
    await this.updateAttempt(token, index, attemptId, { bytesSent, updatedAt: this.now().toISOString() }, []);
  }

  /**
   * Takes one of `max` places for a request that waits for its delivery (`async: false`), for
   * `seconds`; undefined when all are taken. The place is an item of its own, so a function that
   * dies while waiting holds it only until it expires. Returns the way to give the place back.
   */
  public async enterSyncWait(max: number, seconds: number): Promise<(() => Promise<void>) | undefined> {
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    const { count } = await this.table.query({
      KeyConditionExpression: '#token = :waiters',
      FilterExpression: 'holdUntil > :now',
      ExpressionAttributeNames: { '#token': partition },
      ExpressionAttributeValues: { ':waiters': syncWaiters, ':now': nowSeconds },
      Select: 'COUNT',
    });
    if (count >= max) return undefined;
    const key = itemKey(syncWaiters, `waiter#${crypto.randomUUID()}`);
    await this.table.put({ ...key, holdUntil: nowSeconds + seconds, [expiry]: nowSeconds + seconds + 60 });
    return async () => {
      await this.table.delete(key);
    };
  }

  /**
   * Claims the right to send the callback for `outcome` (a digest of every destination's final
   * state) for `leaseSeconds`: only one finisher per distinct outcome sends it. A claim whose
   * holder ended without recording what it sent (a crash, a timeout) may be taken again once its
   * lease has run out, so a callback is sent at least once. Claimed, it gives the job's item as
   * claimed (to make a job of `finished` with, see {@link jobFromItems}); not, whether the
   * callback was sent or when the claim that holds it runs out.
   */
  public async claimCallback(token: string, outcome: string, leaseSeconds: number): Promise<CallbackClaim> {
    const now = Math.floor(this.now().getTime() / 1000);
    try {
      const claimed = await this.table.update(itemKey(token, jobItem), {
        UpdateExpression: 'SET callbackOutcome = :outcome, callbackLeaseUntil = :leaseUntil',
        // AND binds before OR; no parentheses, for dynalite's sake as in the claim (1.95 ms to parse
        // with the nested ones, 0.2 without).
        ConditionExpression:
          'attribute_not_exists(callbackOutcome) OR callbackOutcome <> :outcome OR ' +
          'callbackLeaseUntil < :now AND attribute_not_exists(#callback) OR callbackLeaseUntil < :now AND #callback.outcome <> :outcome',
        ExpressionAttributeNames: { '#callback': 'callback' },
        ExpressionAttributeValues: { ':outcome': outcome, ':leaseUntil': now + leaseSeconds, ':now': now },
        ReturnValues: 'ALL_NEW',
      });
      return { kind: 'claimed', item: claimed ?? {} };
    } catch (error) {
      if (!isAwsError(error, conditionFailed)) throw error;
    }
    const job = await this.table.get(itemKey(token, jobItem));
    if ((job?.callback as CallbackRecord | undefined)?.outcome === outcome) return { kind: 'sent' };
    // A claim holds through its last second: it can be taken from the next one on (at once, when
    // it has just run out).
    return { kind: 'held', until: new Date(Math.max(Number(job?.callbackLeaseUntil ?? 0) + 1, now + 1) * 1000) };
  }

  /**
   * Records what was sent for `callback.outcome`, if that is still the outcome claimed: a callback
   * of an earlier outcome that ends after a later one was claimed (a slow receiver, a retried
   * destination) must not hide the later one's record, or the later one would be sent again.
   */
  public async recordCallback(token: string, callback: CallbackRecord): Promise<void> {
    try {
      await this.table.update(itemKey(token, jobItem), {
        UpdateExpression: 'SET #callback = :callback',
        ConditionExpression: 'callbackOutcome = :outcome',
        ExpressionAttributeNames: { '#callback': 'callback' },
        ExpressionAttributeValues: { ':callback': callback, ':outcome': callback.outcome },
      });
    } catch (error) {
      if (!isAwsError(error, conditionFailed)) throw error;
    }
  }
}
