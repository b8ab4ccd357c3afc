import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentTable } from '../../shared/jobs/document-table.ts';
import { destinationItem, itemKey, JobStore, type Claim } from '../../shared/jobs/job-store.ts';
import { AwsJsonClient, dynamodbService } from '../../shared/net/aws-json-client.ts';
import { startJobsAndQueues, type JobsAndQueues } from '../support/servers/jobs-and-queues.ts';

const client = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
let servers: JobsAndQueues;
let jobs: JobStore;
/** The same table, for a clock of the test's own. */
let jobsAt: (now: Date) => JobStore;
let table: DocumentTable;
let sequence = 0;

beforeAll(async () => {
  servers = await startJobsAndQueues('jobs', client);
  table = new DocumentTable(new AwsJsonClient(dynamodbService, { ...client, endpoint: servers.dynamoEndpoint }), 'jobs');
  jobs = new JobStore(table, 1);
  jobsAt = (now) => new JobStore(table, 1, () => now);
});

afterAll(async () => {
  await servers.close();
});

async function jobOfTwo(): Promise<string> {
  const token = `ud_jobs_${(sequence += 1)}`;
  const destination = { type: 's3', destination: { bucket: 'b', filename: 'a' } };
  await jobs.create({ token, createdAt: new Date().toISOString(), source: { bucket: 'staging', key: 'a.mp4' }, origin: 'api', enqueued: true, destinationCount: 2 }, [destination, destination]);
  return token;
}

const sent = (outcome: string) => ({ state: 'sent' as const, attempts: 1, status: 204, outcome, at: new Date().toISOString() });

describe('JobStore: the callback claim', () => {
  it('keeps the record of the latest outcome when the callback of an earlier one is recorded after it, so the latest is not sent again', async () => {
    // Prepare: a finisher claims the callback for one outcome; while it sends (a slow receiver), a
    // retried destination changes the outcome, and another finisher claims, sends and records that.
    const token = await jobOfTwo();
    expect(await jobs.claimCallback(token, 'failed,succeeded', 1)).toMatchObject({ kind: 'claimed' });
    expect(await jobs.claimCallback(token, 'succeeded,succeeded', 1)).toMatchObject({ kind: 'claimed' });
    await jobs.recordCallback(token, sent('succeeded,succeeded'));

    // Act: the first finisher records its callback last; then, once every claim has run out, a
    // redelivered message of the job looks again.
    await jobs.recordCallback(token, sent('failed,succeeded'));
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const again = await jobs.claimCallback(token, 'succeeded,succeeded', 1);

    // Assess
    expect(again).toEqual({ kind: 'sent' });
    expect((await jobs.get(token))?.callback).toMatchObject({ outcome: 'succeeded,succeeded' });
  });
});

describe('JobStore: the claim of a destination', () => {
  const timeout = { code: 'Timeout', message: 'timed out' };
  /** What the first attempt does with the destination it claimed. */
  type Leave = (token: string, attemptId: string) => Promise<unknown>;
  const cases: [string, Leave, Claim['kind']][] = [
    ['retrying', (token, attemptId) => jobs.fail(token, 0, attemptId, { ...timeout, retryable: true }, false), 'claimed'],
    ['waiting', (token, attemptId) => jobs.wait(token, 0, attemptId, new Date(Date.now() + 60_000), { ...timeout, retryable: true }), 'claimed'],
    ['failed after every attempt (dead-lettered)', (token, attemptId) => jobs.fail(token, 0, attemptId, { ...timeout, retryable: true }, true), 'claimed'],
    ['failed for good', (token, attemptId) => jobs.fail(token, 0, attemptId, { ...timeout, retryable: false }, true), 'finished'],
    ['succeeded', (token, attemptId) => jobs.succeed(token, 0, attemptId, { url: 's3://b/a', bytes: 1, checksum: { algorithm: 'crc32', value: 'AAAAAA==' } }), 'finished'],
    ['uploading under a live lease', () => Promise.resolve(), 'busy'],
  ];

  it.each(cases)('answers %s with %s', async (_state, leave, expected) => {
    // Prepare: a first attempt claims the queued destination and leaves it in the state named.
    const token = await jobOfTwo();
    const first = await jobs.claim(token, 0, 60);
    expect(first).toMatchObject({ kind: 'claimed', attempts: 1 });
    if (first.kind !== 'claimed') return;
    await leave(token, first.attemptId);

    // Act
    const second = await jobs.claim(token, 0, 60);

    // Assess: a claim that takes it counts the attempt.
    expect(second.kind).toBe(expected);
    if (second.kind === 'claimed') expect(second.attempts).toBe(2);
  });

  it('takes a destination whose attempt holds it past its lease', async () => {
    // Prepare
    const token = await jobOfTwo();
    const claimedAt = new Date();
    expect(await jobsAt(claimedAt).claim(token, 0, 30)).toMatchObject({ kind: 'claimed' });

    // Act: within the lease, then a second after it.
    const within = await jobsAt(new Date(claimedAt.getTime() + 29_000)).claim(token, 0, 30);
    const after = await jobsAt(new Date(claimedAt.getTime() + 31_000)).claim(token, 0, 30);

    // Assess
    expect(within.kind).toBe('busy');
    expect(after).toMatchObject({ kind: 'claimed', attempts: 2 });
  });

  it('refuses a destination the job does not have, and makes no item for it', async () => {
    // Prepare
    const token = await jobOfTwo();

    // Act
    const claim = jobs.claim(token, 2, 60);
    const ofNoJob = jobs.claim(`${token}_missing`, 0, 60);

    // Assess
    await expect(claim).rejects.toThrow(`job ${token} has no destination 2`);
    await expect(ofNoJob).rejects.toThrow(`job ${token}_missing has no destination 0`);
    expect(await table.get(itemKey(token, destinationItem(2)))).toBeUndefined();
    expect(await table.get(itemKey(`${token}_missing`, destinationItem(0)))).toBeUndefined();
  });
});
