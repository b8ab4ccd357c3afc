import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPipeline } from '../../../infra/local/pipeline.ts';
import { resourceNames } from '../../../infra/resources.ts';
import { deliveryMetricNames } from '../../../shared/observability/metric-names.ts';
import { AwsRequestCounter, requestsPerDelivery, totalRequests, type AwsRequestCounts } from '../../support/aws-requests.ts';

/** One way of asking for a delivery, and what it cost each AWS service per delivery. */
export interface RequestScenario {
  readonly name: string;
  /** The one the target is about: S3 destination, staging source, stored credentials, no callback. */
  readonly baseline: boolean;
  readonly deliveries: number;
  readonly perDelivery: AwsRequestCounts;
  readonly total: number;
}

export interface RequestsResult {
  readonly fileBytes: number;
  readonly scenarios: readonly RequestScenario[];
}

const fileBytes = 1024;
const sourceKey = 'bench/requests-1k.bin';
/** Deliveries per scenario, one at a time, after two that warm its caches (secrets, data keys). */
const deliveries = 10;
const warmUps = 2;
/** `--quick`: counts do not depend on how many are averaged, so a few show them. */
const quickDeliveries = 3;

/** The `DeliveriesSucceeded` of one embedded-metric-format line (a number, or one per record). */
export function succeededIn(line: string): number {
  if (!line.startsWith('{"_aws"') || !line.includes(deliveryMetricNames.succeeded)) return 0;
  const value = (JSON.parse(line) as Record<string, unknown>)[deliveryMetricNames.succeeded];
  if (typeof value === 'number') return value;
  return Array.isArray(value) ? value.reduce((sum: number, each) => sum + Number(each), 0) : 0;
}

/**
 * The AWS requests one delivery to S3 makes, counted at the local runtime's servers (issue 13):
 * deliveries are sent one at a time and each is seen done by its function's own metric
 * (`DeliveriesSucceeded`, written when its invocation ends), so nothing but the deliveries asks
 * the servers anything (no status read, no callback unless the scenario has one).
 */
export async function measureRequests(log: (line: string) => void, quick = false): Promise<RequestsResult> {
  const count = quick ? quickDeliveries : deliveries;
  const state = await mkdtemp(join(tmpdir(), 'ud-bench-requests-'));
  let succeeded = 0;
  const pipeline = await startLocalPipeline({
    stateDirectory: state,
    stagingSourcePrefixes: ['bench/'],
    metrics: true,
    onLog: (text) => {
      for (const line of text.split('\n')) succeeded += succeededIn(line);
    },
    onError: (error) => log(`requests: ${String(error)}`),
  });
  const counter = new AwsRequestCounter(pipeline, resourceNames.stagingBucket);
  // A URL source on a server of its own: its GET is the source's, not an AWS request.
  const body = Buffer.alloc(fileBytes, 3);
  const origin = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  // Callbacks are answered and otherwise ignored: completion is seen by the metric.
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: pipeline.s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey },
  });
  try {
    await s3.send(new PutObjectCommand({ Bucket: resourceNames.stagingBucket, Key: sourceKey, Body: body }));
    const stored = { bucket: resourceNames.stagingBucket, key: sourceKey };
    const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/renders/1k.bin`;
    const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const destination = { type: 's3', bucket: pipeline.deliveryBucket, endpoint: pipeline.s3.endpoint };
    const storedKeys = { ...destination, credentials: 'local-s3' };
    const inlineKeys = { ...destination, aws_access_key_id: pipeline.s3.accessKeyId, aws_secret_access_key: pipeline.s3.secretAccessKey };
    const scenarios = [
      { name: 'staging source, stored credentials, no callback', baseline: true, source: stored, destination: storedKeys },
      { name: 'URL source, stored credentials, no callback', baseline: false, source: { url }, destination: storedKeys },
      { name: 'staging source, inline secrets, no callback', baseline: false, source: stored, destination: inlineKeys },
      { name: 'staging source, stored credentials, callback', baseline: false, source: stored, destination: storedKeys, callback: callbackUrl },
    ];

    let sequence = 0;
    const deliverOne = async (scenario: (typeof scenarios)[number]): Promise<void> => {
      const before = succeeded;
      sequence += 1;
      const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          source: scenario.source,
          upload: { destination: { ...scenario.destination, filename: `bench/requests/${sequence}.bin` } },
          ...(scenario.callback ? { callback_url: scenario.callback } : {}),
        }),
      });
      if (response.status !== 202) throw new Error(`${scenario.name}: POST answered ${response.status}: ${await response.text()}`);
      const deadline = Date.now() + 30_000;
      while (succeeded === before) {
        if (Date.now() > deadline) throw new Error(`${scenario.name}: delivery ${sequence} was not seen done within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    const results: RequestScenario[] = [];
    for (const scenario of scenarios) {
      for (let index = 0; index < (quick ? 1 : warmUps); index += 1) await deliverOne(scenario);
      const before = await counter.settled();
      for (let index = 0; index < count; index += 1) await deliverOne(scenario);
      const perDelivery = requestsPerDelivery(before, await counter.settled(), count);
      const total = totalRequests(perDelivery);
      log(`requests: ${scenario.name}: ${total.toFixed(1)} per delivery`);
      results.push({ name: scenario.name, baseline: scenario.baseline, deliveries: count, perDelivery, total });
    }
    return { fileBytes, scenarios: results };
  } finally {
    s3.destroy();
    counter.close();
    origin.close();
    receiver.close();
    await pipeline.close();
    await rm(state, { recursive: true, force: true });
  }
}
