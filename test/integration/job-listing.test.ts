import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobTable } from '../../infra/local/job-table.ts';
import { DocumentTable } from '../../shared/jobs/document-table.ts';
import { JobListing } from '../../shared/jobs/job-listing.ts';
import { JobStore } from '../../shared/jobs/job-store.ts';
import type { JobState } from '../../shared/jobs/records.ts';
import { AwsJsonClient, dynamodbService } from '../../shared/net/aws-json-client.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let dynamo: DynamoDBClient;
let dynamodb: AwsJsonClient;
let close: () => Promise<void>;
let sequence = 0;

/** A job store whose clock reads `at`. */
function storeAt(table: string, at: string): JobStore {
  return new JobStore(new DocumentTable(dynamodb, table), 1, () => new Date(at));
}

/** Records a job created at `createdAt` whose destinations end in `outcomes` ('queued' leaves one untouched). */
async function job(table: string, createdAt: string, outcomes: readonly ('succeeded' | 'retryable' | 'permanent' | 'queued')[]): Promise<string> {
  const token = `ud_list${String((sequence += 1)).padStart(4, '0')}`;
  const store = storeAt(table, createdAt);
  await store.create(
    { token, createdAt, source: { bucket: 'staging', key: 'a.bin' }, origin: 'api', enqueued: true, destinationCount: outcomes.length },
    outcomes.map(() => ({ type: 's3', destination: { bucket: 'b', filename: 'a.bin' } })),
  );
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome === 'queued') continue;
    const claim = await store.claim(token, index, 60);
    if (claim.kind !== 'claimed') throw new Error('could not claim');
    if (outcome === 'succeeded') await store.succeed(token, index, claim.attemptId, { url: 'u', bytes: 1, checksum: { algorithm: 'crc32', value: 'AAAAAA==' } });
    else await store.fail(token, index, claim.attemptId, { code: 'Broken', message: 'broken', retryable: outcome === 'retryable' }, true);
  }
  return token;
}

async function table(): Promise<string> {
  const name = `jobs-${(sequence += 1)}`;
  await createJobTable(dynamo, name);
  return name;
}

beforeAll(async () => {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dynamo = new DynamoDBClient({ region, endpoint, credentials });
  dynamodb = new AwsJsonClient(dynamodbService, { region, endpoint, credentials });
});

afterAll(async () => {
  dynamo.destroy();
  await close();
});

describe('Class: JobListing', () => {
  it('lists jobs newest first across months and shards, page by page, and ends without a cursor', async () => {
    // Prepare
    const name = await table();
    const tokens: string[] = [];
    for (const createdAt of ['2026-04-29T10:00:00.000Z', '2026-04-30T23:59:59.999Z', '2026-05-01T00:00:00.000Z', '2026-05-02T08:00:00.000Z', '2026-05-02T08:00:00.000Z']) {
      tokens.push(await job(name, createdAt, ['succeeded']));
    }
    const listing = new JobListing(new DocumentTable(dynamodb, name), () => new Date('2026-05-03T00:00:00.000Z'));
    const since = new Date('2026-04-01T00:00:00.000Z');

    // Act
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = await listing.list({ since, limit: 2, ...(cursor ? { cursor } : {}) });
      pages.push(page.jobs.map((listed) => listed.token));
      cursor = page.cursor;
    } while (cursor !== undefined && pages.length < 10);

    // Assess: the two jobs of the same millisecond are both listed, once.
    const expected = [tokens[4], tokens[3], tokens[2], tokens[1], tokens[0]];
    expect(pages.flat()).toEqual(expected);
    expect(pages[0]).toEqual(expected.slice(0, 2));
  });

  it('leaves out jobs before since', async () => {
    const name = await table();
    await job(name, '2026-05-01T09:00:00.000Z', ['succeeded']);
    const recent = await job(name, '2026-05-01T11:00:00.000Z', ['succeeded']);
    const listing = new JobListing(new DocumentTable(dynamodb, name), () => new Date('2026-05-01T12:00:00.000Z'));

    const page = await listing.list({ since: new Date('2026-05-01T10:00:00.000Z'), limit: 10 });

    expect(page.jobs.map((listed) => listed.token)).toEqual([recent]);
    expect(page.cursor).toBeUndefined();
  });

  it('filters by the state the destinations give the job, reading on past the jobs it skips', async () => {
    // Prepare
    const name = await table();
    const failed = await job(name, '2026-05-01T01:00:00.000Z', ['retryable']);
    const partly = await job(name, '2026-05-01T02:00:00.000Z', ['succeeded', 'permanent']);
    for (let hour = 3; hour < 9; hour += 1) await job(name, `2026-05-01T0${hour}:00:00.000Z`, ['succeeded']);
    const listing = new JobListing(new DocumentTable(dynamodb, name), () => new Date('2026-05-02T00:00:00.000Z'));
    const since = new Date('2026-05-01T00:00:00.000Z');

    // Act
    const onlyFailed = await listing.list({ since, limit: 5, states: new Set<JobState>(['failed']) });
    const both = await listing.list({ since, limit: 5, states: new Set<JobState>(['failed', 'partially_failed']) });

    // Assess
    expect(onlyFailed.jobs.map((listed) => listed.token)).toEqual([failed]);
    expect(both.jobs.map((listed) => listed.token)).toEqual([partly, failed]);
    expect(both.jobs[0]?.destinations.map((destination) => destination.state)).toEqual(['succeeded', 'failed']);
  });

  it('refuses a cursor it did not give', async () => {
    const listing = new JobListing(new DocumentTable(dynamodb, await table()));

    await expect(listing.list({ since: new Date(0), limit: 1, cursor: 'bm90IGEgY3Vyc29y' })).rejects.toThrow(RangeError);
  });

  // Each month from the cursor's back to since took a query per shard: from 9999, until the function timed out.
  it.each([
    ['far in the future', '9999-12-31T23:59:59.999Z'],
    ['an hour ahead of its clock', '2026-05-02T01:00:00.000Z'],
  ])('refuses a cursor %s without reading the table', async (_case, createdAt) => {
    const name = await table();
    await job(name, '2026-05-01T10:00:00.000Z', ['succeeded']);
    let queries = 0;
    const documents = new DocumentTable(dynamodb, name);
    const counted = Object.assign(Object.create(documents) as DocumentTable, {
      query: (...args: Parameters<DocumentTable['query']>) => {
        queries += 1;
        return documents.query(...args);
      },
    });
    const listing = new JobListing(counted, () => new Date('2026-05-02T00:00:00.000Z'));
    const cursor = Buffer.from(`${createdAt}#ud_list0001`).toString('base64url');

    await expect(listing.list({ since: new Date('2026-05-01T00:00:00.000Z'), limit: 1, cursor })).rejects.toThrow(RangeError);

    expect(queries).toBe(0);
  }, 10_000);

  it('ends the listing with an empty page at a cursor older than since, without reading the table', async () => {
    const name = await table();
    await job(name, '2026-05-01T10:00:00.000Z', ['succeeded']);
    const listing = new JobListing(new DocumentTable(dynamodb, name), () => new Date('2026-05-02T00:00:00.000Z'));
    const cursor = Buffer.from('2026-04-30T23:59:59.999Z#ud_list0001').toString('base64url');

    await expect(listing.list({ since: new Date('2026-05-01T00:00:00.000Z'), limit: 1, cursor })).resolves.toEqual({ jobs: [], cursor: undefined });
  });

  it('takes the cursor of a job whose clock ran a minute ahead of its own, and reads on from it', async () => {
    const name = await table();
    const older = await job(name, '2026-05-01T10:00:00.000Z', ['succeeded']);
    const ahead = await job(name, '2026-05-02T00:01:00.000Z', ['succeeded']);
    const listing = new JobListing(new DocumentTable(dynamodb, name), () => new Date('2026-05-02T00:00:00.000Z'));
    const since = new Date('2026-05-01T00:00:00.000Z');

    const first = await listing.list({ since, limit: 1 });
    const second = await listing.list({ since, limit: 1, ...(first.cursor ? { cursor: first.cursor } : {}) });

    expect([first.jobs.map((listed) => listed.token), second.jobs.map((listed) => listed.token)]).toEqual([[ahead], [older]]);
  });
});

describe('Class: JobStore, requeue', () => {
  it('requeues a destination that failed after every attempt, clearing its error, and keeps its attempts', async () => {
    const name = await table();
    const token = await job(name, new Date().toISOString(), ['retryable']);
    const store = storeAt(name, new Date().toISOString());

    const outcome = await store.requeue(token, 0, false);

    expect(outcome).toBe('requeued');
    const destination = (await store.get(token))?.destinations[0];
    expect(destination).toMatchObject({ state: 'queued', attempts: 1 });
    expect(destination?.error).toBeUndefined();
    expect((await store.claim(token, 0, 60)).kind).toBe('claimed');
  });

  it('requeues a destination that failed for good only when asked to', async () => {
    const name = await table();
    const token = await job(name, new Date().toISOString(), ['permanent']);
    const store = storeAt(name, new Date().toISOString());

    const refused = await store.requeue(token, 0, false);
    const allowed = await store.requeue(token, 0, true);

    expect(refused).toMatchObject({ state: 'failed', error: { code: 'Broken', retryable: false } });
    expect(allowed).toBe('requeued');
  });

  it('does not requeue a delivered or a claimed destination, nor one that does not exist', async () => {
    const name = await table();
    const token = await job(name, new Date().toISOString(), ['succeeded', 'queued']);
    const store = storeAt(name, new Date().toISOString());
    await store.claim(token, 1, 60);

    expect(await store.requeue(token, 0, true)).toMatchObject({ state: 'succeeded' });
    expect(await store.requeue(token, 1, true)).toMatchObject({ state: 'uploading' });
    expect(await store.requeue(token, 5, true)).toBe('missing');
  });

  it('requeues again a destination a retry requeued that nobody has claimed yet (its message may be lost), and never a queued one it did not requeue', async () => {
    const name = await table();
    const token = await job(name, new Date().toISOString(), ['retryable', 'queued']);
    const store = storeAt(name, new Date().toISOString());
    await store.requeue(token, 0, false);

    expect(await store.requeue(token, 0, false)).toBe('requeued');
    expect(await store.requeue(token, 1, false)).toMatchObject({ state: 'queued' });
  });
});
