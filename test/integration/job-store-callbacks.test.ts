import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentTable } from '../../shared/jobs/document-table.ts';
import { JobStore } from '../../shared/jobs/job-store.ts';
import { AwsJsonClient, dynamodbService } from '../../shared/net/aws-json-client.ts';
import { startJobsAndQueues, type JobsAndQueues } from '../support/servers/jobs-and-queues.ts';

const client = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
let servers: JobsAndQueues;
let jobs: JobStore;
let sequence = 0;

beforeAll(async () => {
  servers = await startJobsAndQueues('jobs', client);
  jobs = new JobStore(new DocumentTable(new AwsJsonClient(dynamodbService, { ...client, endpoint: servers.dynamoEndpoint }), 'jobs'), 1);
});

afterAll(async () => {
  await servers.close();
});

async function jobOfTwo(): Promise<string> {
  const token = `ud_callbacks_${(sequence += 1)}`;
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
