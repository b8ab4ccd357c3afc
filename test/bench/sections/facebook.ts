import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { pageVideoPermissions, startFacebookFake, type FacebookFake } from '../../fakes/facebook.ts';
import { bundle } from '../clients/build.ts';
import type { FacebookTask } from '../clients/workers/facebook.ts';
import type { WorkerReport } from '../clients/workers/worker-io.ts';
import { patternCrc32 } from '../input/pattern.ts';
import { runMeasured } from '../measure/child.ts';
import { verifiedRunIsTimed } from '../measure/rounds.ts';
import { GiB, median, MiB, sizeLabel } from '../measure/stats.ts';

const pageId = '20000000000001';
const pageToken = 'bench-page-token';
const systemUserToken = 'bench-system-user-token';

/** The two ways the destination uploads, by the kind of token it is given. */
const flows = [
  { name: 'Page token: upload_phase, 1 MiB chunks as the fake asks', task: { token: pageToken } },
  { name: 'system-user token: Resumable Upload API, one stream', task: { token: systemUserToken, pageId } },
] as const;

export interface FacebookBenchRow {
  readonly flow: string;
  readonly size: number;
  readonly label: string;
  /** Input size / the upload's own time (the worker's, without process start-up), median. */
  readonly mibPerSecond: number | undefined;
  /** User + system CPU of the whole worker process (its wait4 figures) per GiB, median. */
  readonly cpuSecondsPerGiB: number | undefined;
  readonly peakRssMiB: number | undefined;
  readonly error?: string;
}

export interface FacebookBenchResult {
  readonly rows: FacebookBenchRow[];
  readonly note: string;
}

export interface FacebookBenchContext {
  readonly scratch: string;
  readonly buildDirectory: string;
  readonly runs: number;
  readonly log: (line: string) => void;
}

async function storedCrc32(path: string): Promise<number> {
  let value = 0;
  for await (const chunk of createReadStream(path)) value = crc32(chunk as Buffer, value);
  return value >>> 0;
}

async function withFake<T>(use: (facebook: FacebookFake) => Promise<T>): Promise<T> {
  const facebook = await startFacebookFake();
  facebook.tokens.grantAccess(pageToken, { subject: pageId, scopes: pageVideoPermissions });
  facebook.tokens.grantAccess(systemUserToken, { scopes: pageVideoPermissions });
  try {
    return await use(facebook);
  } finally {
    // Removes the stored video: a 1 GiB run costs disk only while it runs.
    await facebook.close();
  }
}

/** One upload by the worker process, measured by wait4; `verify` checks the published video's bytes. */
async function uploadOnce(worker: string, task: Omit<FacebookTask, 'endpoint'>, context: FacebookBenchContext, verify: boolean) {
  return withFake(async (facebook) => {
    const cost = await runMeasured(process.execPath, [worker, JSON.stringify({ ...task, endpoint: facebook.url })], { scratch: context.scratch, timeoutMs: 900_000 });
    const report = JSON.parse(cost.stdout.trim().split('\n').pop() ?? '{}') as WorkerReport;
    const [video, ...others] = facebook.videos.values();
    if (!video || others.length > 0) throw new Error(`expected one video, the fake holds ${facebook.videos.size}`);
    if (verify && (await storedCrc32(video.bytes.path)) !== patternCrc32(task.size)) throw new Error('the published video differs from the source');
    return {
      mibPerSecond: task.size / MiB / (report.uploadMs / 1000),
      cpuSecondsPerGiB: (cost.userSeconds + cost.systemSeconds) / (task.size / GiB),
      peakRssMiB: cost.maxRssKiB / 1024,
    };
  });
}

/**
 * The Facebook destination uploading into the Graph fake (on loopback, in this process, writing
 * what it receives to disk), in each flow: one verified run, then `runs` timed ones per size
 * (with one, the verified run is it).
 */
export async function measureFacebook(sizes: readonly number[], context: FacebookBenchContext): Promise<FacebookBenchResult> {
  const note = 'worker process bundled as the function is; the fake runs in the bench process and is not counted; MiB/s from the upload\'s own time';
  const worker = await bundle(join(import.meta.dirname, '../clients/workers/facebook.ts'), join(context.buildDirectory, 'facebook-worker.mjs'));
  if ('error' in worker) {
    return { rows: flows.flatMap((flow) => sizes.map((size) => ({ flow: flow.name, size, label: sizeLabel(size), mibPerSecond: undefined, cpuSecondsPerGiB: undefined, peakRssMiB: undefined, error: worker.error }))), note };
  }
  const rows: FacebookBenchRow[] = [];
  for (const flow of flows) {
    for (const size of sizes) {
      const task = { ...flow.task, size };
      try {
        // The verified run is the timed one when there is one.
        const verifiedIsTimed = verifiedRunIsTimed(context.runs);
        const verified = await uploadOnce(worker.file, task, context, true);
        const runs = [];
        for (let round = 0; round < context.runs; round += 1) {
          const run = verifiedIsTimed ? verified : await uploadOnce(worker.file, task, context, false);
          context.log(`  facebook ${flow.name}, ${sizeLabel(size)} run ${round + 1}/${context.runs}: ${run.mibPerSecond.toFixed(0)} MiB/s, ${run.cpuSecondsPerGiB.toFixed(2)} CPU-s/GiB, ${run.peakRssMiB.toFixed(0)} MiB`);
          runs.push(run);
        }
        rows.push({
          flow: flow.name,
          size,
          label: sizeLabel(size),
          mibPerSecond: median(runs.map((run) => run.mibPerSecond)),
          cpuSecondsPerGiB: median(runs.map((run) => run.cpuSecondsPerGiB)),
          peakRssMiB: median(runs.map((run) => run.peakRssMiB)),
        });
      } catch (error) {
        rows.push({ flow: flow.name, size, label: sizeLabel(size), mibPerSecond: undefined, cpuSecondsPerGiB: undefined, peakRssMiB: undefined, error: String(error) });
      }
    }
  }
  return { rows, note };
}

/** The section's Markdown table. */
export function renderFacebookTable(result: FacebookBenchResult): string {
  const figure = (value: number | undefined, digits: number): string => (value === undefined ? '—' : value.toFixed(digits));
  const lines = [
    '| Facebook destination into the Graph fake | size | MiB/s | CPU-s/GiB | peak RSS MiB |',
    '|---|---|---|---|---|',
    ...result.rows.map((row) =>
      row.error ? `| ${row.flow} | ${row.label} | failed: ${row.error} | | |` : `| ${row.flow} | ${row.label} | ${figure(row.mibPerSecond, 0)} | ${figure(row.cpuSecondsPerGiB, 2)} | ${figure(row.peakRssMiB, 0)} |`,
    ),
  ];
  return `${lines.join('\n')}\n\n(${result.note})`;
}
