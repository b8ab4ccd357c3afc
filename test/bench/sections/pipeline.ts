import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { startLocalPipeline } from '../../../infra/local/pipeline.ts';
import { resourceNames } from '../../../infra/resources.ts';
import { percentile } from '../measure/stats.ts';
import type { LoadResult, LoadTask } from './pipeline-load.ts';

/** One concurrency level: closed-loop clients, each sending its next job when the last has called back. */
export interface PipelineLevel {
  readonly clients: number;
  readonly deliveries: number;
  readonly deliveriesPerSecond: number;
  /** accept → delivered, from the job record's own timestamps (created_at → finished_at). */
  readonly addedLatencyMs: { readonly p50: number | undefined; readonly p99: number | undefined };
  /** What a client sees: POST sent → signed callback received. */
  readonly roundTripMs: { readonly p50: number | undefined; readonly p99: number | undefined };
  /**
   * CPU time of the local runtime per delivery: every function and server thread (the process's
   * CPU less the clients' thread's), less swayed than the rates by other work on a shared machine.
   */
  readonly cpuMsPerDelivery: number;
  /** The clients' own CPU per delivery (their thread: requests, callback receiver). */
  readonly clientCpuMsPerDelivery: number;
  /** {@link cpuMsPerDelivery} by thread: which part is the service's code and which the stand-ins'. */
  readonly cpuSplitMsPerDelivery?: CpuSplit;
}

/**
 * Runtime CPU per delivery by thread. `functions`: the ingress and destination functions' threads,
 * with V8's and libuv's helper threads (the process's CPU less every thread measured on its own);
 * `host`: the main thread (the HTTP gateway, the
 * local S3 front, the SQS pollers, this benchmark's bookkeeping); then each embedded server's thread.
 */
export interface CpuSplit {
  readonly functions: number;
  readonly host: number;
  readonly dynamodb: number;
  readonly sqs: number;
  readonly s3: number;
}

const threadCpuMs = (): number => {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
};

/** One window of the warm-up, at 64 clients. */
export interface WarmUpWindow {
  readonly deliveries: number;
  readonly deliveriesPerSecond: number;
  readonly cpuMsPerDelivery: number;
}

export interface PipelineResult {
  readonly fileBytes: number;
  /** The windows run before the levels are measured: the first is a fresh runtime's rate, the last the one the levels start from. */
  readonly warmUp?: readonly WarmUpWindow[];
  readonly levels: readonly PipelineLevel[];
}

const fileBytes = 1024;
const levels = [1, 8, 64];
/** Deliveries per level: enough for a p99, few enough to keep the section near a minute. */
const deliveriesAt = (clients: number): number => Math.max(100, clients * 10);
/** `--quick`: the two levels the targets name, with a quarter of the deliveries (a p50, no p99 worth the name). */
const quickLevels = [1, 64];

/**
 * The warm-up: `windows` windows of `deliveries` at 64 clients before any level is measured. V8
 * optimises a function with Maglev once it has run 400 times and with TurboFan after 3,000
 * (`--invocation-count-for-maglev`, `--invocation-count-for-turbofan`), so code that runs once per
 * delivery, in every thread (the functions', the servers', the host's), reaches its fastest form
 * only after some 3,000 deliveries: a fresh runtime's first window costs about twice the CPU per
 * delivery of its tenth, with its helper threads compiling meanwhile. With the optimising compilers
 * off (`--no-opt --no-maglev`) every window costs the same; with their thresholds a tenth as high,
 * the cost falls within two windows. A service under load runs warm; a fresh one's cost is the
 * first window, reported with the rest. `--quick` skips it: its levels are a fresh runtime's.
 */
const warmUp = { deliveries: 320, windows: 10 } as const;
const quickWarmUp = { deliveries: 0, windows: 0 } as const;

/**
 * Where the local runtime keeps its state here: in memory (tmpfs) where the machine has it. The
 * embedded S3 stores every object as files, and on this disk their writes cost the machine about a
 * fifth of each delivery's CPU, which no S3 costs the service.
 */
const stateRoot = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/**
 * Small deliveries through the whole local runtime (`npm start`'s pipeline: the HTTP gateway and
 * ingress, SQS, the S3 function, DynamoDB, the local S3), with 1, 8 and 64 concurrent clients
 * running in a thread of their own, once the runtime has warmed up (see `warmUp`).
 */
export async function measurePipeline(log: (line: string) => void, quick = false): Promise<PipelineResult> {
  const state = await mkdtemp(join(stateRoot, 'ud-bench-pipeline-'));
  const pipeline = await startLocalPipeline({
    stateDirectory: state,
    stagingSourcePrefixes: ['bench/'],
    // The functions log every delivery as in Lambda; the lines are dropped here, not printed among the tables.
    onLog: () => undefined,
    onError: (error) => log(`pipeline: ${String(error)}`),
  });
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: pipeline.s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey },
  });
  await s3.send(new PutObjectCommand({ Bucket: resourceNames.stagingBucket, Key: 'bench/1k.bin', Body: Buffer.alloc(fileBytes, 1) }));
  s3.destroy();
  const request = {
    source: { bucket: resourceNames.stagingBucket, key: 'bench/1k.bin' },
    upload: { destination: { type: 's3', bucket: pipeline.deliveryBucket, endpoint: pipeline.s3.endpoint, credentials: 'local-s3' } },
  };
  /**
   * Starts the clients' thread (its TypeScript run by Node's type stripping: a loader would add a
   * thread of its own) and resolves once it is ready, with `run` to let its clients go: the runtime's
   * CPU is counted from there, without the thread's start.
   */
  const loadThread = (clients: number, total: number, label: string): Promise<{ run: () => Promise<LoadResult> }> =>
    new Promise((ready, reject) => {
      const task: LoadTask = { apiUrl: pipeline.apiUrl, request, clients, total, label };
      const worker = new Worker(new URL('./pipeline-load.ts', import.meta.url), { workerData: task, execArgv: [] });
      worker.once('error', reject);
      worker.once('message', () =>
        ready({
          run: () =>
            new Promise((resolve, fail) => {
              worker.once('message', (result: LoadResult) => {
                resolve(result);
                void worker.terminate();
              });
              worker.once('error', fail);
              worker.postMessage('go');
            }),
        }),
      );
    });

  async function addedLatency(token: string): Promise<number> {
    const job = (await (await fetch(`${pipeline.apiUrl}/v1/uploads/${token}`)).json()) as {
      created_at: string;
      destinations: { finished_at: string }[];
    };
    return Date.parse(job.destinations[0]!.finished_at) - Date.parse(job.created_at);
  }

  /** `total` deliveries by `clients` clients, and what the runtime spent on them (the clients' thread aside). */
  async function runLoad(clients: number, total: number, label: string) {
    const clientsThread = await loadThread(clients, total, label);
    const cpuBefore = process.cpuUsage();
    const hostBefore = threadCpuMs();
    const serversBefore = await pipeline.serverCpuMs();
    const { seconds, cpuMs: clientCpuMs, deliveries } = await clientsThread.run();
    const cpu = process.cpuUsage(cpuBefore);
    const host = threadCpuMs() - hostBefore;
    const serversAfter = await pipeline.serverCpuMs();
    const runtimeMs = (cpu.user + cpu.system) / 1000 - clientCpuMs;
    const servers = { dynamodb: serversAfter.dynamodb - serversBefore.dynamodb, sqs: serversAfter.sqs - serversBefore.sqs, s3: serversAfter.s3 - serversBefore.s3 };
    const perDelivery = (ms: number): number => ms / deliveries.length;
    return {
      deliveries,
      deliveriesPerSecond: deliveries.length / seconds,
      cpuMsPerDelivery: perDelivery(runtimeMs),
      clientCpuMsPerDelivery: perDelivery(clientCpuMs),
      cpuSplitMsPerDelivery: {
        functions: perDelivery(runtimeMs - host - servers.dynamodb - servers.sqs - servers.s3),
        host: perDelivery(host),
        dynamodb: perDelivery(servers.dynamodb),
        sqs: perDelivery(servers.sqs),
        s3: perDelivery(servers.s3),
      },
    };
  }

  try {
    await (await loadThread(1, 5, 'warm-up')).run();
    const warming = quick ? quickWarmUp : warmUp;
    const windows: WarmUpWindow[] = [];
    while (windows.length < warming.windows) {
      const { deliveries, deliveriesPerSecond, cpuMsPerDelivery } = await runLoad(64, warming.deliveries, `w${windows.length + 1}`);
      windows.push({ deliveries: deliveries.length, deliveriesPerSecond, cpuMsPerDelivery });
      log(`pipeline: warm-up window ${windows.length}, ${deliveriesPerSecond.toFixed(0)} deliveries/s, ${cpuMsPerDelivery.toFixed(1)} ms CPU per delivery`);
    }
    const results: PipelineLevel[] = [];
    for (const clients of quick ? quickLevels : levels) {
      const total = quick ? Math.ceil(deliveriesAt(clients) / 4) : deliveriesAt(clients);
      const { deliveries, ...measured } = await runLoad(clients, total, `c${clients}`);
      const added = await Promise.all(deliveries.map((delivery) => addedLatency(delivery.token)));
      const trips = deliveries.map((delivery) => delivery.roundTripMs);
      const level: PipelineLevel = {
        clients,
        deliveries: deliveries.length,
        ...measured,
        addedLatencyMs: { p50: percentile(added, 0.5), p99: percentile(added, 0.99) },
        roundTripMs: { p50: percentile(trips, 0.5), p99: percentile(trips, 0.99) },
      };
      log(`pipeline: ${clients} clients, ${level.deliveriesPerSecond.toFixed(0)} deliveries/s, added p50 ${level.addedLatencyMs.p50} ms, ${level.cpuMsPerDelivery.toFixed(1)} ms CPU per delivery`);
      results.push(level);
    }
    return { fileBytes, warmUp: windows, levels: results };
  } finally {
    await pipeline.close();
    await rm(state, { recursive: true, force: true });
  }
}
