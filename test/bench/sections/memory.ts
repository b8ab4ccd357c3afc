import { GiB, KiB, median, MiB, sizeLabel } from '../measure/stats.ts';
import type { PatternServer } from '../servers/pattern-server.ts';
import { uploadOnce, type ThroughputContext, type UploadTarget } from './throughput.ts';

export interface MemoryResult {
  readonly target: string;
  /**
   * `url`: the source read over a socket from the bench's pattern server, as a function reads a
   * source URL or a staging object (the figure the targets judge); `generated`: made in the
   * uploader's process, a fresh buffer per 64 KiB, as Node's HTTP client hands a body out.
   */
  readonly source: 'url' | 'generated';
  /** Peak RSS of a 1 KiB upload: the process's floor (Node, the SDK, the bundle). */
  readonly floorRssMiB: number | undefined;
  readonly sizes: {
    readonly size: number;
    readonly label: string;
    readonly peakRssMiB: number | undefined;
    readonly runsRssMiB: readonly number[];
    readonly mibPerSecond: number | undefined;
    /** CPU of the whole process per GiB (median): what reading the source costs shows here. */
    readonly cpuSecondsPerGiB: number | undefined;
    readonly error?: string;
  }[];
}

/**
 * Peak RSS of the process running our uploader, taken by the kernel (wait4's peak RSS), so nothing
 * the process allocated escapes it; its source read from `source` when given, else generated.
 */
export async function measureMemory(
  measured: UploadTarget,
  sizes: readonly number[],
  runs: number,
  context: ThroughputContext,
  source?: PatternServer,
): Promise<MemoryResult> {
  const target: UploadTarget = source ? { ...measured, oursSource: (size) => source.url(size) } : measured;
  const floor: number[] = [];
  for (let round = 0; round < runs; round += 1) {
    const { record } = await uploadOnce(target, 'ours', KiB, undefined, context);
    floor.push(record.maxRssMiB);
  }
  const results: MemoryResult['sizes'][number][] = [];
  for (const size of sizes) {
    const rss: number[] = [];
    const speeds: number[] = [];
    const cpu: number[] = [];
    try {
      for (let round = 0; round < runs; round += 1) {
        const { record } = await uploadOnce(target, 'ours', size, undefined, context);
        rss.push(record.maxRssMiB);
        speeds.push(size / MiB / record.transferSeconds);
        cpu.push(record.cpuSeconds / (size / GiB));
        context.log(`  memory ${sizeLabel(size)} (source ${source ? 'url' : 'generated'}) run ${round + 1}/${runs}: peak RSS ${record.maxRssMiB.toFixed(0)} MiB`);
      }
      results.push({ size, label: sizeLabel(size), peakRssMiB: median(rss), runsRssMiB: rss, mibPerSecond: median(speeds), cpuSecondsPerGiB: median(cpu) });
    } catch (error) {
      results.push({ size, label: sizeLabel(size), peakRssMiB: undefined, runsRssMiB: rss, mibPerSecond: undefined, cpuSecondsPerGiB: undefined, error: String(error) });
    }
  }
  return { target: target.name, source: source ? 'url' : 'generated', floorRssMiB: median(floor), sizes: results };
}
