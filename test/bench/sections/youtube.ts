import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { startYouTubeFake, youtubeScopes, type YouTubeFake } from '../../fakes/youtube.ts';
import { bundle } from '../clients/build.ts';
import type { WorkerReport } from '../clients/workers/worker-io.ts';
import type { YouTubeBenchTask } from '../clients/workers/youtube.ts';
import { patternCrc32 } from '../input/pattern.ts';
import { runMeasured } from '../measure/child.ts';
import { verifiedRunIsTimed } from '../measure/rounds.ts';
import { GiB, median, MiB, sizeLabel } from '../measure/stats.ts';

const clients = ['ours', 'single-request'] as const;
type YouTubeClient = (typeof clients)[number];

export interface YouTubeBenchResult {
  readonly description: string;
  readonly sizes: {
    readonly label: string;
    readonly size: number;
    readonly clients: {
      readonly client: YouTubeClient;
      readonly mibPerSecond: number | undefined;
      readonly cpuSecondsPerGiB: number | undefined;
      readonly maxRssMiB: number | undefined;
      readonly requests: number | undefined;
      readonly error?: string;
    }[];
  }[];
}

async function crcOfFile(path: string): Promise<number> {
  let crc = 0;
  for await (const chunk of createReadStream(path)) crc = crc32(chunk as Buffer, crc);
  return crc;
}

/** One upload in a measured process; the video it made is checked against the source, then removed. */
async function uploadOnce(youtube: YouTubeFake, worker: string, task: YouTubeBenchTask, scratch: string) {
  const before = youtube.requestCount('upload');
  const cost = await runMeasured(process.execPath, [worker, JSON.stringify(task)], { scratch });
  const report = JSON.parse(cost.stdout.trim().split('\n').pop() ?? '{}') as WorkerReport;
  const video = [...youtube.videos.values()].find((candidate) => candidate.metadata.snippet.title === task.title);
  if (!video) throw new Error(`${task.client} made no video`);
  const intact = (await crcOfFile(video.bytes.path)) === patternCrc32(task.size);
  await rm(video.bytes.path, { force: true });
  if (!intact) throw new Error(`${task.client}: the video's bytes differ from the source`);
  return {
    mibPerSecond: task.size / MiB / (report.uploadMs / 1000),
    cpuSeconds: cost.userSeconds + cost.systemSeconds,
    maxRssMiB: cost.maxRssKiB / 1024,
    requests: youtube.requestCount('upload') - before,
  };
}

/**
 * Our YouTube upload into the YouTube fake (resumable sessions, 16 MiB chunks each confirmed),
 * beside the ceiling of the same fake: the whole file in one PUT. Each upload runs in a bundled
 * process of its own measured by wait4; the fake runs in the bench's process. MiB/s is timed inside
 * the worker (session start to the video), so process start-up is not counted in it.
 */
export async function measureYouTube(sizes: readonly number[], runs: number, scratch: string, buildDirectory: string, log: (line: string) => void): Promise<YouTubeBenchResult> {
  const built = await bundle(join(import.meta.dirname, '../clients/workers/youtube.ts'), join(buildDirectory, 'youtube-worker.mjs'));
  if ('error' in built) throw new Error(`the YouTube worker did not bundle: ${built.error}`);
  const youtube = await startYouTubeFake({ dailyUploadQuota: Number.MAX_SAFE_INTEGER });
  youtube.tokens.grantAccess('bench-token', { scopes: [youtubeScopes.upload] });
  let sequence = 0;
  const result: YouTubeBenchResult = { description: 'YouTube fake on loopback (HTTP), bytes stored on disk', sizes: [] };
  try {
    for (const size of sizes) {
      const records = new Map<YouTubeClient, Awaited<ReturnType<typeof uploadOnce>>[]>(clients.map((client) => [client, []]));
      const errors = new Map<YouTubeClient, string>();
      // One untimed run per client first (checked like the rest; the timed one when there is one),
      // then rounds in rotated order.
      const verifiedIsTimed = verifiedRunIsTimed(runs);
      for (let round = 0; round <= (verifiedIsTimed ? 0 : runs); round += 1) {
        for (const client of round % 2 === 0 ? clients : [...clients].reverse()) {
          if (errors.has(client)) continue;
          sequence += 1;
          const task: YouTubeBenchTask = { apiUrl: youtube.url, token: 'bench-token', size, title: `bench ${sequence}`, client };
          try {
            const record = await uploadOnce(youtube, built.file, task, scratch);
            if (round > 0 || verifiedIsTimed) records.get(client)!.push(record);
            log(`  youtube ${sizeLabel(size)} ${client} run ${verifiedIsTimed ? 1 : round}/${runs}: ${record.mibPerSecond.toFixed(0)} MiB/s, RSS ${record.maxRssMiB.toFixed(0)} MiB`);
          } catch (error) {
            errors.set(client, error instanceof Error ? error.message : String(error));
          }
        }
      }
      result.sizes.push({
        label: sizeLabel(size),
        size,
        clients: clients.map((client) => {
          const done = records.get(client)!;
          const cpu = median(done.map((record) => record.cpuSeconds));
          return {
            client,
            mibPerSecond: median(done.map((record) => record.mibPerSecond)),
            cpuSecondsPerGiB: cpu === undefined ? undefined : cpu / (size / GiB),
            maxRssMiB: median(done.map((record) => record.maxRssMiB)),
            requests: done[0]?.requests,
            ...(errors.has(client) ? { error: errors.get(client) } : {}),
          };
        }),
      });
    }
  } finally {
    await youtube.close();
  }
  return result;
}
