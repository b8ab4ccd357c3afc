import { GiB, MiB, ratio, spreadLabel } from '../measure/stats.ts';
import { clientLabels, type ClientName } from '../clients/commands.ts';
import type { MemoryResult } from '../sections/memory.ts';
import type { ClientSummary, ThroughputResult } from '../sections/throughput.ts';
import type { GoalCheck } from './goals.ts';

/**
 * Issue 13's S3 targets, judged on this run's figures (ratios within one run). Issue 4's S3 rows
 * are replaced: "≥ the AWS CLI" became "≥ the best peer at ≤ its CPU" at every size, the plain
 * PUT ceiling went from 0.7× to 0.8× (at 1 GiB, beside 4 plain PUTs at once), and memory from
 * "≤ 256 MiB, within 20 %" to "≤ 160 MiB, within 10 %".
 */

const peers: readonly ClientName[] = ['aws-cli', 'rclone', 'lib-storage'];

const summaryOf = (size: ThroughputResult['sizes'][number], client: ClientName): ClientSummary | undefined =>
  size.clients.find((item) => item.client === client && item.status === 'measured')?.summary;

const rate = (summary: ClientSummary | undefined): string =>
  summary?.mibPerSecond === undefined ? '?' : `${summary.mibPerSecond.toFixed(0)} MiB/s ${spreadLabel(summary.spread.mibPerSecond)}`;
const netCpu = (summary: ClientSummary | undefined): string =>
  summary?.netCpuSecondsPerGiB === undefined ? '?' : `${summary.netCpuSecondsPerGiB.toFixed(2)} (whole process ${summary.cpuSecondsPerGiB?.toFixed(2) ?? '?'})`;

/**
 * The CPU figures two clients are judged on: the upload's own CPU where both measure it in their
 * process (the Node workers do), else the whole process's less its start-up (a 1 KiB upload's
 * CPU). A warm function pays its start-up once, not per delivery (the cold start is judged on its
 * own), while a CLI pays it every time. At small sizes the start-up is most of a run, and a run
 * may cost less than the start-up's median, which leaves no net figure to compare; the in-process
 * figure has no such floor to subtract.
 */
function cpuCompared(ours: ClientSummary, peer: ClientSummary): { cost: number | undefined; text: string } {
  if (ours.uploadCpuSecondsPerGiB !== undefined && peer.uploadCpuSecondsPerGiB !== undefined) {
    const cost = ratio(ours.uploadCpuSecondsPerGiB, peer.uploadCpuSecondsPerGiB);
    return { cost, text: `${cost?.toFixed(2) ?? '?'}× its upload's CPU (${ours.uploadCpuSecondsPerGiB.toFixed(2)} vs ${peer.uploadCpuSecondsPerGiB.toFixed(2)} CPU-s/GiB in process; net of start-up ${netCpu(ours)} vs ${netCpu(peer)})` };
  }
  // Net CPU is 0 where a client's runs cost no more than its start-up: two such clients are level.
  const bothNothing = ours.netCpuSecondsPerGiB === 0 && peer.netCpuSecondsPerGiB === 0;
  const cost = bothNothing ? 1 : ratio(ours.netCpuSecondsPerGiB, peer.netCpuSecondsPerGiB);
  return { cost, text: `${cost?.toFixed(2) ?? '?'}× its net CPU (${netCpu(ours)} vs ${netCpu(peer)} CPU-s/GiB)` };
}

/** At every size: ours at least as fast as the fastest peer, at no more CPU per GiB than it (see {@link cpuCompared}). */
export function bestPeerGoals(result: ThroughputResult | undefined): GoalCheck[] {
  return (result?.sizes ?? []).map((size) => {
    const goal = `${result!.target} ${size.label}: MiB/s ≥ the best peer's, at ≤ its CPU-s/GiB`;
    const ours = summaryOf(size, 'ours');
    const best = peers
      .map((client) => ({ client, summary: summaryOf(size, client) }))
      .filter((peer) => peer.summary?.mibPerSecond !== undefined)
      .sort((a, b) => (b.summary!.mibPerSecond ?? 0) - (a.summary!.mibPerSecond ?? 0))[0];
    if (!ours?.mibPerSecond || !best) return { goal, measured: `not measured (ours ${rate(ours)}; no peer measured: ${best ? '' : 'none'})`, met: undefined };
    const speed = ratio(ours.mibPerSecond, best.summary!.mibPerSecond)!;
    const { cost, text } = cpuCompared(ours, best.summary!);
    // Equal CPU figures may differ in the last bit of their division.
    const met = speed >= 1 && cost !== undefined && cost <= 1 + 1e-9;
    return { goal, measured: `best ${clientLabels[best.client]}: ${speed.toFixed(2)}× its MiB/s (ours ${rate(ours)} vs ${rate(best.summary)}), ${text}`, met };
  });
}

/** At 1 GiB: ours at least 0.8× one plain streamed PUT; 4 plain PUTs at once reported beside it. */
export function ceilingGoal(result: ThroughputResult | undefined): GoalCheck[] {
  if (!result) return [];
  const size = result.sizes.find((item) => item.size === GiB);
  const goal = `${result.target} 1 GiB: MiB/s ≥ 0.8× the plain-PUT ceiling (4 plain PUTs at once reported beside it)`;
  if (!size) return [{ goal, measured: 'not measured (1 GiB not among the sizes)', met: undefined }];
  const ours = summaryOf(size, 'ours');
  const single = ratio(ours?.mibPerSecond, summaryOf(size, 'plain-put')?.mibPerSecond);
  const four = ratio(ours?.mibPerSecond, summaryOf(size, 'plain-put-4')?.mibPerSecond);
  const measured = `${single?.toFixed(2) ?? '?'}× one plain PUT (${rate(ours)} vs ${rate(summaryOf(size, 'plain-put'))}); ${four?.toFixed(2) ?? '?'}× 4 at once (${rate(summaryOf(size, 'plain-put-4'))})`;
  return [{ goal, measured, met: single === undefined ? undefined : single >= 0.8 }];
}

/**
 * From 64 MiB to 4 GiB: peak RSS at most 160 MiB at every size, and within 10 % of each other, for
 * the source read as a function reads it (a generated one is reported beside it, not judged).
 */
export function memoryTargetGoals(result: MemoryResult | undefined): GoalCheck[] {
  if (!result || result.source !== 'url') return [];
  const sizes = result.sizes.filter((size) => size.peakRssMiB !== undefined && size.size >= 64 * MiB);
  const goal = `${result.target}: peak RSS ≤ 160 MiB and within 10 % across 64 MiB → 4 GiB`;
  if (sizes.length < 2) return [{ goal, measured: 'fewer than two sizes of 64 MiB or more measured', met: undefined }];
  const values = sizes.map((size) => size.peakRssMiB!);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const spread = high / low - 1;
  return [
    {
      goal,
      measured: `${sizes.map((size) => `${size.label} ${size.peakRssMiB!.toFixed(0)}`).join(', ')} MiB: highest ${high.toFixed(0)}, spread +${(spread * 100).toFixed(0)} %`,
      // Compared in whole MiB, as measured: 110 over 100 is within 10 %, which 110 / 100 - 1 in floating point is not.
      met: high <= 160 && high * 10 <= low * 11,
    },
  ];
}

/** Every S3 row of issue 13's targets table for this run. */
export function s3TargetGoals(results: { sink?: ThroughputResult; https?: ThroughputResult; memory?: readonly MemoryResult[] }): GoalCheck[] {
  return [
    ...bestPeerGoals(results.sink),
    ...bestPeerGoals(results.https),
    ...ceilingGoal(results.sink),
    ...ceilingGoal(results.https),
    ...(results.memory ?? []).flatMap(memoryTargetGoals),
  ];
}
