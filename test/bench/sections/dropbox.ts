import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type DropboxFake, dropboxScopes, startDropboxFake } from '../../fakes/dropbox.ts';
import { bundle } from '../clients/build.ts';
import { runMeasured } from '../measure/child.ts';
import { GiB, median, MiB, sizeLabel } from '../measure/stats.ts';

export interface DropboxRun {
  readonly size: number;
  readonly label: string;
  readonly chunkMiB: number;
  readonly mibPerSecond: number | undefined;
  readonly cpuSecondsPerGiB: number | undefined;
  readonly peakRssMiB: number | undefined;
  readonly error?: string;
}

export interface DropboxBenchResult {
  readonly runs: number;
  readonly results: readonly DropboxRun[];
  readonly note: string;
}

/** Chunk sizes of the sweep, and the sizes the destination's own chunk is measured at. */
export const dropboxSweepChunksMiB = [8, 16, 32, 64] as const;

/**
 * The Dropbox destination into the Dropbox fake on loopback: each upload in a process of its own
 * (bundled as a function is) measured by wait4, for CPU and peak RSS; MiB/s from the worker's own
 * clock (start of the upload to the stored file's metadata). The fake stores every byte on disk
 * and hashes it, in the bench's process; its cost is not charged to the client.
 */
export async function measureDropbox(options: {
  readonly buildDirectory: string;
  readonly scratch: string;
  readonly node: string;
  readonly sizes: readonly number[];
  readonly sweepSize: number;
  readonly defaultChunkMiB: number;
  readonly runs: number;
  readonly log: (line: string) => void;
}): Promise<DropboxBenchResult> {
  const built = await bundle(join(import.meta.dirname, '../clients/workers/dropbox.ts'), join(options.buildDirectory, 'dropbox-worker.mjs'));
  if ('error' in built) throw new Error(`the Dropbox worker did not bundle: ${built.error}`);
  const fake: DropboxFake = await startDropboxFake();
  fake.tokens.grantAccess('bench-token', { scopes: Object.values(dropboxScopes) });
  const cases = [
    ...dropboxSweepChunksMiB.map((chunkMiB) => ({ size: options.sweepSize, chunkMiB })),
    ...options.sizes.map((size) => ({ size, chunkMiB: options.defaultChunkMiB })),
  ];
  const results: DropboxRun[] = [];
  try {
    for (const { size, chunkMiB } of cases) {
      const speeds: number[] = [];
      const cpu: number[] = [];
      const rss: number[] = [];
      try {
        for (let round = 0; round < options.runs; round += 1) {
          const task = { url: fake.url, token: 'bench-token', path: `/bench/${chunkMiB}-${size}.bin`, size, chunkBytes: chunkMiB * MiB };
          const cost = await runMeasured(options.node, [built.file, JSON.stringify(task)], { scratch: options.scratch });
          const report = JSON.parse(cost.stdout.trim().split('\n').pop() ?? '{}') as { uploadMs: number };
          speeds.push(size / MiB / (report.uploadMs / 1000));
          cpu.push(((cost.userSeconds + cost.systemSeconds) * GiB) / size);
          rss.push(cost.maxRssKiB / 1024);
          options.log(`  dropbox ${sizeLabel(size)} in ${chunkMiB} MiB chunks, run ${round + 1}: ${speeds.at(-1)?.toFixed(0)} MiB/s, peak RSS ${rss.at(-1)?.toFixed(0)} MiB`);
        }
        results.push({ size, label: sizeLabel(size), chunkMiB, mibPerSecond: median(speeds), cpuSecondsPerGiB: median(cpu), peakRssMiB: median(rss) });
      } catch (error) {
        results.push({ size, label: sizeLabel(size), chunkMiB, mibPerSecond: undefined, cpuSecondsPerGiB: undefined, peakRssMiB: undefined, error: String(error) });
      }
      // The stored copies are not needed once measured; 1 GiB files add up on the scratch disk.
      for (const file of fake.files.values()) await rm(file.bytes.path, { force: true });
    }
  } finally {
    await fake.close();
  }
  return {
    runs: options.runs,
    results,
    note: 'CPU-s/GiB is the whole client process (start-up included) measured by wait4; the fake writes every byte to disk and hashes it in the bench process',
  };
}

/** The section's table, in Markdown. */
export function renderDropbox(result: DropboxBenchResult): string {
  const rows = result.results.map((run) =>
    `| ${run.label} | ${run.chunkMiB} MiB | ${run.mibPerSecond?.toFixed(0) ?? run.error ?? '?'} | ${run.cpuSecondsPerGiB?.toFixed(2) ?? '?'} | ${run.peakRssMiB?.toFixed(0) ?? '?'} |`,
  );
  return ['## dropbox: the Dropbox destination into the Dropbox fake on loopback', '| size | chunk | MiB/s | CPU-s/GiB | peak RSS MiB |', '|---|---|---|---|---|', ...rows, result.note].join('\n');
}
