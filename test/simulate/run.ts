import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { destinationDefinition } from '../../functions/destinations/registry.ts';
import { startLocalPipeline } from '../../infra/local/pipeline.ts';
import { resourceNames } from '../../infra/resources.ts';
import { serviceDefaults } from '../../shared/config.ts';
import { percentile } from '../bench/measure/stats.ts';
import { AwsRequestCounter, requestsPerDelivery } from '../support/aws-requests.ts';

/**
 * `npm run simulate`: drives the local runtime as a deployment would be driven and counts, at the
 * local servers, the AWS requests one delivery to S3 makes (S3, SQS, DynamoDB, KMS, Secrets Manager) at 1 MiB and
 * 100 MiB, then sends 1 KiB jobs at increasing rates and reports where the time goes. Writes
 * simulate-results/latest.json; docs/cost-and-scale.md turns the counts into cost and limits.
 * Options: --quick (fewer deliveries, 1 MiB only), --out=FILE.
 */

const MiB = 1024 * 1024;
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const out = resolve(argv.find((argument) => argument.startsWith('--out='))?.slice(6) ?? 'simulate-results/latest.json');
const started = Date.now();
const log = (line: string): void => void process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

const emf: Record<string, unknown>[] = [];
const state = await mkdtemp(join(tmpdir(), 'ud-simulate-'));
const pipeline = await startLocalPipeline({
  stateDirectory: state,
  stagingSourcePrefixes: ['simulate/'],
  metrics: true,
  onLog: (text) => {
    for (const line of text.split('\n')) if (line.startsWith('{"_aws"')) emf.push(JSON.parse(line) as Record<string, unknown>);
  },
  onError: (error) => log(`pipeline: ${String(error)}`),
});
const s3 = new S3Client({
  region: 'us-east-1',
  endpoint: pipeline.s3.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey },
});
const counter = new AwsRequestCounter(pipeline, resourceNames.stagingBucket);

// Completion is learnt from the signed callback, not by polling, so the counts hold no GET of ours.
const finished = new Map<string, () => void>();
const early = new Set<string>();
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const { token } = JSON.parse(Buffer.concat(chunks).toString()) as { token: string };
    response.writeHead(204).end();
    const done = finished.get(token);
    if (done) done();
    else early.add(token);
  });
});
await new Promise<void>((resolveListen) => receiver.listen(0, '127.0.0.1', resolveListen));
const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

async function deliver(key: string, filename: string): Promise<{ token: string; acceptMs: number }> {
  const sent = performance.now();
  const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      source: { bucket: resourceNames.stagingBucket, key },
      upload: { destination: { type: 's3', bucket: pipeline.deliveryBucket, filename, endpoint: pipeline.s3.endpoint, credentials: 'local-s3' } },
      callback_url: callbackUrl,
    }),
  });
  const { token } = (await response.json()) as { token: string };
  if (response.status !== 202) throw new Error(`POST answered ${response.status}`);
  return { token, acceptMs: performance.now() - sent };
}

function calledBack(token: string): Promise<void> {
  if (early.delete(token)) return Promise.resolve();
  return new Promise((resolveDone) => finished.set(token, () => resolveDone()));
}

const memoryMb = destinationDefinition('s3').lambda.memoryMb;
const ingressMemoryMb = 512;

async function countRequests(bytes: number, deliveries: number): Promise<Record<string, unknown>> {
  const key = `simulate/source-${bytes}.bin`;
  await s3.send(new PutObjectCommand({ Bucket: resourceNames.stagingBucket, Key: key, Body: Buffer.alloc(bytes, 7) }));
  const firstEmf = emf.length;
  const before = await counter.settled();
  const accepts: number[] = [];
  for (let index = 0; index < deliveries; index += 1) {
    const { token, acceptMs } = await deliver(key, `simulate/${bytes}/${index}.bin`);
    accepts.push(acceptMs);
    await calledBack(token);
  }
  const after = await counter.settled();
  const durations = emf.slice(firstEmf).flatMap((record) => (typeof record.DeliveryDuration === 'number' ? [record.DeliveryDuration] : Array.isArray(record.DeliveryDuration) ? (record.DeliveryDuration as number[]) : []));
  const deliveryMs = percentile(durations, 0.5) ?? 0;
  const acceptMs = percentile(accepts, 0.5) ?? 0;
  return {
    bytes,
    deliveries,
    requests: requestsPerDelivery(before, after, deliveries),
    lambda: {
      destinationMsP50: deliveryMs,
      ingressAcceptMsP50: acceptMs,
      destinationGbSeconds: (deliveryMs / 1000) * (memoryMb / 1024),
      ingressGbSeconds: (acceptMs / 1000) * (ingressMemoryMb / 1024),
      memoryMb,
      ingressMemoryMb,
    },
  };
}

async function rateLevel(perSecond: number, seconds: number): Promise<Record<string, unknown>> {
  const key = 'simulate/rate-1k.bin';
  const total = Math.round(perSecond * seconds);
  const firstEmf = emf.length;
  const begin = performance.now();
  const jobs: Promise<{ accept: number; roundTrip: number }>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = begin + (index * 1000) / perSecond;
    await new Promise((wait) => setTimeout(wait, Math.max(0, due - performance.now())));
    jobs.push(
      deliver(key, `simulate/rate/${perSecond}/${index}.bin`).then(async ({ token, acceptMs }) => {
        await calledBack(token);
        return { accept: acceptMs, roundTrip: performance.now() - due };
      }),
    );
  }
  const done = await Promise.all(jobs);
  const elapsed = (performance.now() - begin) / 1000;
  const records = emf.slice(firstEmf);
  const values = (name: string): number[] => records.flatMap((record) => (Array.isArray(record[name]) ? (record[name] as number[]) : typeof record[name] === 'number' ? [record[name] as number] : []));
  const toDelivered = values('TimeToDelivered');
  const upload = values('DeliveryDuration');
  const accept = done.map((job) => job.accept);
  return {
    offeredPerSecond: perSecond,
    deliveries: total,
    achievedPerSecond: total / elapsed,
    acceptMs: { p50: percentile(accept, 0.5), p99: percentile(accept, 0.99) },
    acceptedToDeliveredMs: { p50: percentile(toDelivered, 0.5), p99: percentile(toDelivered, 0.99) },
    deliveringAttemptMs: { p50: percentile(upload, 0.5), p99: percentile(upload, 0.99) },
    roundTripToCallbackMs: { p50: percentile(done.map((job) => job.roundTrip), 0.5), p99: percentile(done.map((job) => job.roundTrip), 0.99) },
  };
}

const results: Record<string, unknown> = {
  generatedAt: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim(), node: process.versions.node, loadAverageAtStart: loadavg() },
  maxAttempts: serviceDefaults.maxAttempts,
};
try {
  log('warming up');
  await s3.send(new PutObjectCommand({ Bucket: resourceNames.stagingBucket, Key: 'simulate/rate-1k.bin', Body: Buffer.alloc(1024, 1) }));
  for (let index = 0; index < 3; index += 1) await calledBack((await deliver('simulate/rate-1k.bin', `simulate/warm/${index}.bin`)).token);
  const sizes = quick ? [[MiB, 5]] : [[MiB, 20], [100 * MiB, 2]];
  const counted = [];
  for (const [bytes, deliveries] of sizes) {
    log(`counting the requests of ${deliveries} deliveries of ${bytes! / MiB} MiB`);
    counted.push(await countRequests(bytes!, deliveries!));
  }
  results.perDelivery = counted;
  const rates = quick ? [5, 10] : [5, 10, 20, 40];
  const levels = [];
  for (const rate of rates) {
    log(`${rate} deliveries/s of 1 KiB for ${quick ? 4 : 8} s`);
    levels.push(await rateLevel(rate, quick ? 4 : 8));
  }
  results.rates = levels;
  results.loadAverageAtEnd = loadavg();
  await mkdir(resolve(out, '..'), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
  log(`results written to ${out}`);
} finally {
  counter.close();
  receiver.close();
  s3.destroy();
  await pipeline.close();
  await rm(state, { recursive: true, force: true });
}
