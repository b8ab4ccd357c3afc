import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../infra/cli/upload-destinations/program.ts';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { startTestServer, type TestServer } from '../support/http-servers.ts';
import { patternBytes, sha256 } from '../support/sources.ts';
import { waitFor } from '../support/wait.ts';

const MiB = 1024 * 1024;
let pipeline: LocalPipeline;
let state: string;
let s3: S3Client;
let sqs: SQSClient;
let sources: TestServer;
let sourceUp = false;
const fileBytes = patternBytes(9 * MiB + 5, 7);
const functionOutput: string[] = [];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  json(): any;
}

/** Runs the CLI in this process against the test's pipeline, as `npx upload-destinations --api … <args>`. */
async function cli(...args: string[]): Promise<Run> {
  return cliWith({}, ...args);
}

async function cliWith(env: Record<string, string>, ...args: string[]): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const code = await runCli(['--api', pipeline.apiUrl, ...args], { stdout, stderr, env, terminal: false });
  const text = Buffer.concat(out).toString();
  return { code, stdout: text, stderr: Buffer.concat(err).toString(), json: () => JSON.parse(text) };
}

const s3To = (fields: string): string => `s3:bucket=${pipeline.deliveryBucket},endpoint=${pipeline.s3.endpoint},credentials=local-s3,${fields}`;

async function stored(bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

async function deadLettered(type: string): Promise<number> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: pipeline.deadLetterQueueUrls[type], AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ud-cli-'));
  pipeline = await startLocalPipeline({ stateDirectory: state, maxAttempts: 2, retryBaseSeconds: 1, metrics: true, onLog: (text) => functionOutput.push(text) });
  const credentials = { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey };
  s3 = new S3Client({ region: 'us-east-1', endpoint: pipeline.s3.endpoint, forcePathStyle: true, credentials });
  sqs = new SQSClient({ region: 'us-east-1', endpoint: pipeline.sqsEndpoint, credentials });
  sources = await startTestServer((request, response) => {
    if (request.url === '/down.bin' && !sourceUp) {
      response.writeHead(503).end('down for maintenance');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(fileBytes.length) }).end(fileBytes);
  });
  await writeFile(join(state, 'render.mp4'), fileBytes);
});

afterAll(async () => {
  s3.destroy();
  sqs.destroy();
  await sources.close();
  await pipeline.close();
  await rm(state, { recursive: true, force: true });
});

describe('upload-destinations CLI, against the local runtime', () => {
  it('sends a local file through the presigned door with progress, follows it, and exits 0 when delivered', async () => {
    // Act
    const run = await cli('--progress', 'send', join(state, 'render.mp4'), '--to', s3To('filename=cli/'));

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ud_\S+ {2}succeeded/);
    expect(run.stdout).toContain(`✓ #0 s3 succeeded (9.0 MiB, 1 attempt) → ${pipeline.s3.endpoint}/deliveries/cli/render.mp4`);
    expect(run.stderr).toMatch(/upload \|.*\| 100% 9\.0 MiB of 9\.0 MiB/);
    expect(run.stderr).toMatch(/#0 s3 succeeded \|.*\| 100%/);
    expect(sha256(await stored(pipeline.deliveryBucket, 'cli/render.mp4'))).toBe(sha256(fileBytes));
  });

  it('prints only the token with --no-wait, and the job with status --json', async () => {
    const sent = await cli('send', `${sources.url}/video.mp4`, '--to', s3To('filename=cli/nowait.mp4'), '--no-wait');
    const token = sent.stdout.trim();

    const watched = await cli('--json', 'status', token, '--watch');

    expect(sent.code).toBe(0);
    expect(token).toMatch(/^ud_[A-Za-z0-9_-]+$/);
    expect(watched.code).toBe(0);
    expect(watched.json()).toMatchObject({ token, state: 'succeeded', destinations: [{ state: 'succeeded', bytes: fileBytes.length }] });
  });

  it("prints a 400's fields as a list and exits 2, queueing nothing", async () => {
    const run = await cli('send', `${sources.url}/video.mp4`, '--to', 's3:bucket=Bad_Bucket!,acl=everyone');

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: the request has invalid fields (invalid_request)');
    expect(run.stderr).toContain('  - upload.destination.bucket: ');
    expect(run.stderr).toContain('  - upload.destination.filename: is required');
    expect(run.stdout).toBe('');
  });

  it('exits 1 for a failed delivery, lists it among the failed jobs, and retries it once its cause is fixed (--permanent)', async () => {
    // Prepare: a bucket that does not exist yet fails the delivery for good.
    const failed = await cli('--json', 'send', `${sources.url}/video.mp4`, '--to', `s3:bucket=later-bucket,endpoint=${pipeline.s3.endpoint},credentials=local-s3,filename=a.mp4`);
    const token = failed.json().token as string;

    // Act
    const listed = await cli('--json', 'list', '--state', 'failed', '--since', '1h');
    const refused = await cli('retry', token);
    await s3.send(new CreateBucketCommand({ Bucket: 'later-bucket' }));
    const retried = await cli('retry', token, '--permanent', '--wait');

    // Assess
    expect(failed.code).toBe(1);
    expect(failed.json()).toMatchObject({ state: 'failed', destinations: [{ error: { code: 'NoSuchBucket' } }] });
    expect(listed.json().jobs.map((job: { token: string }) => job.token)).toContain(token);
    expect(listed.json().jobs.every((job: { state: string }) => job.state === 'failed')).toBe(true);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('#0 failed for good (NoSuchBucket): fix the cause, then retry with "permanent": true');
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain('✓ #0 s3 succeeded');
    expect(sha256(await stored('later-bucket', 'a.mp4'))).toBe(sha256(fileBytes));
  });

  it('lists page by page: a cursor after each page, every job once with --all', async () => {
    const first = await cli('--json', 'list', '--limit', '1');
    const second = await cli('--json', 'list', '--limit', '1', '--cursor', first.json().next_cursor);
    const all = await cli('--json', 'list', '--limit', '2', '--all');

    expect(first.json().jobs).toHaveLength(1);
    expect(second.json().jobs[0].token).not.toBe(first.json().jobs[0].token);
    const tokens = all.json().jobs.map((job: { token: string }) => job.token);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    expect(all.json().next_cursor).toBeNull();
  });

  it('redrives a dead-lettered delivery after a dry run counts it; the delivery then succeeds', async () => {
    // Prepare: a source that is down fails every attempt transiently: the message is dead-lettered.
    const sent = await cli('--json', 'send', `${sources.url}/down.bin`, '--to', s3To('filename=cli/redriven.bin'));
    const token = sent.json().token as string;
    await waitFor(async () => ((await deadLettered('s3')) > 0 ? true : undefined), 30_000, 'the message to be dead-lettered');
    sourceUp = true;

    // Act
    const dryRun = await cli('redrive', 's3', '--dry-run', '--sqs-endpoint', pipeline.sqsEndpoint);
    const moved = await cli('redrive', 's3', '--sqs-endpoint', pipeline.sqsEndpoint);
    // Until its function takes the moved message, the job still shows the last attempt's failure,
    // a final state `status --watch` would answer with at once.
    await waitFor(async () => ((await cli('--json', 'status', token)).json().state === 'failed' ? undefined : true), 30_000, 'the redriven delivery to start');
    const watched = await cli('--json', 'status', token, '--watch');

    // Assess
    expect(sent.code).toBe(1);
    expect(sent.json().destinations[0]).toMatchObject({ state: 'failed', error: { code: 'HTTP503' } });
    expect(dryRun.stdout.trim()).toBe(`1 message(s) in s3's dead-letter queue; nothing moved (dry run)\n  ${token} #0`);
    expect(moved.stdout.trim()).toBe(`moved 1 message(s) from s3's dead-letter queue back to its queue\n  ${token} #0`);
    expect(watched.json()).toMatchObject({ state: 'succeeded', destinations: [{ state: 'succeeded', attempts: 3 }] });
    expect(await deadLettered('s3')).toBe(0);
  });

  it('tests destinations in their own function: every check for a good one, the failing check for a bad one, the skipped ones for one without a probe', async () => {
    const good = await cli('test', s3To('filename=x'));
    const bad = await cli('--json', 'test', `s3:bucket=${pipeline.deliveryBucket},endpoint=${pipeline.s3.endpoint},filename=x,aws_access_key_id=AKIAEXAMPLE,aws_secret_access_key=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY`);
    const withoutProbe = await cli('--json', 'test', 'youtube:title=Hello,description=A video,oauth_access_token=ya29.example-token');
    const elsewhere = await cli('test', 's3:bucket=deliveries,endpoint=https://storage.attacker.example,credentials=local-s3,filename=x');

    expect(good.code).toBe(0);
    expect(good.stdout).toContain('✓ s3 destination passed every check; permission to write: a small object written under a reserved name and removed');
    expect(good.stdout).toContain('  ✓ write: may write to s3://deliveries/');
    expect(bad.code).toBe(1);
    expect(bad.json().checks.find((check: { name: string }) => check.name === 'write')).toMatchObject({ ok: false, detail: expect.stringContaining('InvalidAccessKeyId') });
    expect(bad.stdout).not.toContain('wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY');
    expect(withoutProbe.json()).toMatchObject({ ok: true, method: 'none' });
    expect(withoutProbe.json().checks.map((check: { name: string; skipped?: boolean }) => [check.name, check.skipped ?? false])).toEqual([
      ['validation', false],
      ['credentials', false],
      ['network', false],
      ['write', true],
    ]);
    // A test is a delivery's twin: stored credentials go to no host a delivery could not send them to.
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr + elsewhere.stdout).toMatch(/destination\.endpoint: stored credentials are sent only to/);
  });

  it("prints the bucket policy with the store's canonical user ID", async () => {
    const keys = { AWS_ACCESS_KEY_ID: pipeline.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: pipeline.s3.secretAccessKey };

    const run = await cliWith(keys, '--json', 'bucket-policy', 'my-videos', '--endpoint', pipeline.s3.endpoint);

    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({ canonical_user_id: pipeline.s3.canonicalUserId, bucket_policy: { Statement: [{ Resource: 'arn:aws:s3:::my-videos/*' }, {}] } });
  });

  it('exits 3, saying so, when the API cannot be reached', async () => {
    const stderr = new PassThrough();
    const err: Buffer[] = [];
    stderr.on('data', (chunk: Buffer) => err.push(chunk));

    const code = await runCli(['--api', 'http://127.0.0.1:1', 'status', 'ud_x'], { stdout: new PassThrough(), stderr, env: {}, terminal: false });

    expect(code).toBe(3);
    expect(Buffer.concat(err).toString()).toContain('cannot reach the API at http://127.0.0.1:1');
  });

  it('counted every request at the ingress by door and answer, in the embedded metric format', () => {
    const records = functionOutput
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, any>);

    const byAnswer = records.filter((record) => record.Requests !== undefined && record.door === 'api');
    expect(byAnswer.some((record) => record.answer === '202')).toBe(true);
    expect(byAnswer.some((record) => record.answer === '400')).toBe(true);
    expect(records.some((record) => record.door === 's3' && record.answer === 'handled')).toBe(true);
    expect(records.some((record) => record.destination === 's3' && record.DeliveriesSucceeded !== undefined)).toBe(true);
  });

  it('runs as npx upload-destinations from the package', async () => {
    const { stdout } = await promisify(execFile)('npx', ['upload-destinations', '--api', pipeline.apiUrl, '--json', 'list', '--limit', '1'], { cwd: process.cwd() });

    expect(JSON.parse(stdout).jobs).toHaveLength(1);
  });
});
