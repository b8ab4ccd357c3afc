import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { clientLabels, invocation, type ClientName, type ClientPrograms } from '../clients/commands.ts';
import { patternCrc32, writePatternFile } from '../input/pattern.ts';
import { ChildFailed, runMeasured } from '../measure/child.ts';
import type { CpuQuota } from '../measure/cpu-quota.ts';
import { verifiedRunIsTimed } from '../measure/rounds.ts';
import { GiB, KiB, median, MiB, ratio, sizeLabel, spreadOf, type Spread } from '../measure/stats.ts';
import type { WorkerReport } from '../clients/workers/worker-io.ts';
import type { UploadClock } from '../servers/upload-clock.ts';

/** What a server tells about one finished upload. */
export interface StoredUpload {
  readonly bytes: number;
  /** True when the whole object's CRC-32 was compared with the source's. */
  readonly contentChecked: boolean;
  readonly parts?: number;
  readonly partSize?: number;
  readonly integrity?: readonly string[];
}

/** A server the clients upload into: the S3 sink (HTTP or HTTPS) or s3rver. */
export interface UploadTarget {
  readonly name: string;
  readonly description: string;
  readonly clients: readonly ClientName[];
  readonly bucket: string;
  readonly caFile: string | undefined;
  endpoint(client: ClientName): string;
  clock(client: ClientName): UploadClock;
  /** Verification runs: the server checks every digest and the whole object's CRC (slower). */
  setVerify(on: boolean): void;
  /** Confirms the object arrived whole; throws with the reason when it did not. */
  check(client: ClientName, key: string, size: number, expectedCrc: number): Promise<StoredUpload>;
  forget(client: ClientName, key: string): Promise<void>;
  /** Settings ours runs with against this target (the ours-tuned worker), when not the shipped ones. */
  readonly oursTuning?: Readonly<Record<string, number>>;
  /** Where `ours` reads a file of `size` bytes from, as a function reads its source; else it generates it. */
  readonly oursSource?: (size: number) => string;
}

export interface RunRecord {
  /** Server-side: first write request to last write response. */
  readonly transferSeconds: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  readonly maxRssMiB: number;
  readonly requests: number;
  readonly maxInFlight: number;
  readonly connections: number;
  /** Node workers only: CPU of the upload call itself, without start-up. */
  readonly uploadCpuSeconds: number | undefined;
  /** CPU of the bench process (the server side) during the run: shows whether the server kept up. */
  readonly serverCpuSeconds: number;
}

export interface ClientSummary {
  readonly mibPerSecond: number | undefined;
  /** Size over the whole process's wall time, start-up included. */
  readonly processMibPerSecond: number | undefined;
  readonly cpuSecondsPerGiB: number | undefined;
  /** CPU per GiB after taking off the client's start-up CPU (a 1 KiB upload). */
  readonly netCpuSecondsPerGiB: number | undefined;
  readonly maxRssMiB: number | undefined;
  readonly uploadCpuSecondsPerGiB: number | undefined;
  readonly serverCpuSecondsPerGiB: number | undefined;
  /** Min, max and relative spread of the timed runs behind each median. */
  readonly spread: { readonly mibPerSecond?: Spread; readonly cpuSecondsPerGiB?: Spread; readonly maxRssMiB?: Spread };
}

export interface ClientResult {
  readonly client: ClientName;
  readonly label: string;
  status: 'measured' | 'skipped' | 'failed';
  reason?: string;
  /** The untimed verified run: what the client sent and what arrived. */
  check?: StoredUpload & { readonly maxInFlight: number; readonly connections: number };
  readonly runs: RunRecord[];
  summary?: ClientSummary;
  /** Ours divided by this client: throughput (higher is better for us) and CPU per GiB (lower is better). */
  oursOver?: { readonly throughput: number | undefined; readonly cpu: number | undefined };
}

export interface SizeResult {
  readonly size: number;
  readonly label: string;
  readonly clients: ClientResult[];
}

export interface ThroughputResult {
  readonly target: string;
  readonly description: string;
  readonly sizes: SizeResult[];
  /** Median CPU seconds of a 1 KiB upload per client: its start-up cost. */
  readonly startupCpuSeconds: Partial<Record<ClientName, number>>;
}

export interface ThroughputContext {
  readonly programs: ClientPrograms;
  /** Clients that cannot run at all, with the reason (tool not installable, worker not built). */
  readonly unavailable: ReadonlyMap<ClientName, string>;
  readonly scratch: string;
  /** Where the CLI tools' input files go (tmpfs when there is one). */
  readonly inputDirectory: string;
  readonly runs: number;
  readonly log: (line: string) => void;
}

const fileClients = new Set<ClientName>(['aws-cli', 'rclone']);

function parseReport(stdout: string): WorkerReport | undefined {
  const line = stdout.trim().split('\n').pop();
  try {
    return line ? (JSON.parse(line) as WorkerReport) : undefined;
  } catch {
    return undefined;
  }
}

let sequence = 0;

/** One upload by one client (inside `quota` when given): the process measured, the server's window read, the object checked. */
export async function uploadOnce(
  target: UploadTarget,
  client: ClientName,
  size: number,
  inputFile: string | undefined,
  context: Pick<ThroughputContext, 'programs' | 'scratch'>,
  tuning?: Readonly<Record<string, number>>,
  quota?: CpuQuota,
): Promise<{ record: RunRecord; stored: StoredUpload }> {
  sequence += 1;
  const key = `bench/${client}-${sequence}.bin`;
  const endpoint = target.endpoint(client);
  const settings = tuning ?? (client === 'ours' ? target.oursTuning : undefined);
  const sourceUrl = client === 'ours' ? target.oursSource?.(size) : undefined;
  const call = invocation(
    client,
    { endpoint, bucket: target.bucket, key, size, inputFile, caFile: target.caFile, ...(settings ? { tuning: settings } : {}), ...(sourceUrl ? { sourceUrl } : {}) },
    context.programs,
  );
  const run = quota ? quota.wrap(call.command, call.args) : call;
  const serverCpuBefore = process.cpuUsage();
  const cost = await runMeasured(run.command, run.args, { env: call.env, scratch: context.scratch });
  const serverCpu = process.cpuUsage(serverCpuBefore);
  const clock = target.clock(client);
  const window = clock.window(`/${target.bucket}/${key}`);
  try {
    if (!window) throw new Error(`${client} exited 0 but the server saw no upload of ${key}`);
    const stored = await target.check(client, key, size, patternCrc32(size));
    const report = parseReport(cost.stdout);
    return {
      stored,
      record: {
        transferSeconds: (window.endedAt - window.startedAt) / 1000,
        wallSeconds: cost.wallSeconds,
        cpuSeconds: cost.userSeconds + cost.systemSeconds,
        userSeconds: cost.userSeconds,
        systemSeconds: cost.systemSeconds,
        maxRssMiB: cost.maxRssKiB / 1024,
        requests: window.requests,
        maxInFlight: window.maxInFlight,
        connections: window.sockets.size,
        uploadCpuSeconds: report ? report.uploadCpuMs / 1000 : undefined,
        serverCpuSeconds: (serverCpu.user + serverCpu.system) / 1e6,
      },
    };
  } finally {
    clock.forget(`/${target.bucket}/${key}`);
    await target.forget(client, key);
  }
}

function summarize(runs: readonly RunRecord[], size: number, startupCpu: number | undefined): ClientSummary {
  const gib = size / GiB;
  const perGiB = (value: number | undefined): number | undefined => (value === undefined ? undefined : value / gib);
  const cpu = median(runs.map((run) => run.cpuSeconds));
  const spread = {
    mibPerSecond: spreadOf(runs.map((run) => size / MiB / run.transferSeconds)),
    cpuSecondsPerGiB: spreadOf(runs.map((run) => run.cpuSeconds / gib)),
    maxRssMiB: spreadOf(runs.map((run) => run.maxRssMiB)),
  };
  return {
    spread,
    mibPerSecond: median(runs.map((run) => size / MiB / run.transferSeconds)),
    processMibPerSecond: median(runs.map((run) => size / MiB / run.wallSeconds)),
    cpuSecondsPerGiB: cpu === undefined ? undefined : cpu / gib,
    netCpuSecondsPerGiB: cpu === undefined || startupCpu === undefined ? undefined : Math.max(0, cpu - startupCpu) / gib,
    maxRssMiB: median(runs.map((run) => run.maxRssMiB)),
    uploadCpuSecondsPerGiB: perGiB(median(runs.map((run) => run.uploadCpuSeconds))),
    serverCpuSecondsPerGiB: perGiB(median(runs.map((run) => run.serverCpuSeconds))),
  };
}

/**
 * Timed rounds at `size`. A file of 64 MiB or less uploads in well under a second, where a
 * process's start and the machine's jitter move one run by a third (spreads of ±10-60 % over three
 * runs), so such sizes get at least five and their medians hold still; larger files keep `runs`,
 * and one run (`--quick`) stays one.
 */
export function timedRoundsAt(size: number, runs: number): number {
  return runs > 1 && size <= 64 * MiB ? Math.max(runs, 5) : runs;
}

function failureText(error: unknown): string {
  return error instanceof ChildFailed || error instanceof Error ? error.message : String(error);
}

/**
 * Every client into one target at every size: first one verified, untimed run per client (which
 * also warms caches; with one run, it is the timed one: {@link verifiedRunIsTimed}), then timed
 * rounds ({@link timedRoundsAt}) with the client order rotated each round so slow drift of a
 * shared machine spreads over all clients, then start-up runs (1 KiB) to separate the fixed cost
 * of each client from its cost per byte.
 */
export async function measureThroughput(target: UploadTarget, sizes: readonly number[], context: ThroughputContext): Promise<ThroughputResult> {
  const sizeResults: SizeResult[] = [];
  const runnable = target.clients.filter((client) => !context.unavailable.has(client));
  const startupRuns = new Map<ClientName, number[]>();

  for (const size of sizes) {
    const label = sizeLabel(size);
    const results = new Map<ClientName, ClientResult>(
      target.clients.map((client) => [client, { client, label: clientLabels[client], status: 'measured', runs: [] }]),
    );
    for (const [client, reason] of context.unavailable) {
      const result = results.get(client);
      if (result) Object.assign(result, { status: 'skipped', reason });
    }
    const rounds = timedRoundsAt(size, context.runs);
    const logRun = (client: ClientName, round: number, record: RunRecord): void =>
      context.log(
        `  ${target.name} ${label} ${client} run ${round + 1}/${rounds}: ${(size / MiB / record.transferSeconds).toFixed(0)} MiB/s, ${(record.cpuSeconds / (size / GiB)).toFixed(2)} CPU-s/GiB`,
      );
    const inputFile = runnable.some((client) => fileClients.has(client)) ? join(context.inputDirectory, `input-${size}.bin`) : undefined;
    try {
      if (inputFile) await writePatternFile(inputFile, size);
      const verifiedIsTimed = verifiedRunIsTimed(rounds);
      target.setVerify(true);
      for (const client of runnable) {
        const result = results.get(client)!;
        context.log(`  ${target.name} ${label} ${client}: verified run${verifiedIsTimed ? ', timed' : ''}`);
        try {
          const { record, stored } = await uploadOnce(target, client, size, inputFile, context);
          result.check = { ...stored, maxInFlight: record.maxInFlight, connections: record.connections };
          if (verifiedIsTimed) {
            result.runs.push(record);
            logRun(client, 0, record);
          }
        } catch (error) {
          Object.assign(result, { status: 'failed', reason: failureText(error) });
          context.log(`    failed: ${result.reason}`);
        }
      }
      target.setVerify(false);
      const measured = runnable.filter((client) => results.get(client)?.status === 'measured');
      for (let round = verifiedIsTimed ? 1 : 0; round < rounds; round += 1) {
        const order = measured.map((_, index) => measured[(index + round) % measured.length]!);
        for (const client of order) {
          const result = results.get(client)!;
          if (result.status !== 'measured') continue;
          try {
            const { record } = await uploadOnce(target, client, size, inputFile, context);
            result.runs.push(record);
            logRun(client, round, record);
          } catch (error) {
            Object.assign(result, { status: 'failed', reason: failureText(error) });
            context.log(`    failed: ${result.reason}`);
          }
        }
      }
    } finally {
      target.setVerify(false);
      if (inputFile) await rm(inputFile, { force: true });
    }
    sizeResults.push({ size, label, clients: [...results.values()] });
  }

  // Start-up cost: the same client uploading 1 KiB.
  const tinyFile = join(context.inputDirectory, 'input-tiny.bin');
  await writePatternFile(tinyFile, KiB);
  try {
    for (let round = 0; round < context.runs; round += 1) {
      for (const client of runnable) {
        try {
          const { record } = await uploadOnce(target, client, KiB, tinyFile, context);
          startupRuns.set(client, [...(startupRuns.get(client) ?? []), record.cpuSeconds]);
        } catch (error) {
          context.log(`  ${target.name} ${client} start-up run failed: ${failureText(error)}`);
        }
      }
    }
  } finally {
    await rm(tinyFile, { force: true });
  }
  const startupCpuSeconds: Partial<Record<ClientName, number>> = {};
  for (const [client, values] of startupRuns) {
    const value = median(values);
    if (value !== undefined) startupCpuSeconds[client] = value;
  }

  for (const sizeResult of sizeResults) {
    for (const result of sizeResult.clients) {
      if (result.status === 'measured' && result.runs.length > 0) {
        result.summary = summarize(result.runs, sizeResult.size, startupCpuSeconds[result.client]);
      }
    }
    const ours = sizeResult.clients.find((result) => result.client === 'ours')?.summary;
    for (const result of sizeResult.clients) {
      if (!result.summary || !ours) continue;
      result.oursOver = {
        throughput: ratio(ours.mibPerSecond, result.summary.mibPerSecond),
        cpu: ratio(ours.cpuSecondsPerGiB, result.summary.cpuSecondsPerGiB),
      };
    }
  }
  return { target: target.name, description: target.description, sizes: sizeResults, startupCpuSeconds };
}
