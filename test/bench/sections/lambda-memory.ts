import { createCpuQuota, cpuQuotaSupport } from '../measure/cpu-quota.ts';
import { GiB, median, MiB, sizeLabel, spreadOf, type Spread } from '../measure/stats.ts';
import { uploadOnce, type ThroughputContext, type UploadTarget } from './throughput.ts';

/** Lambda gives a function one full vCPU at 1,769 MB, and CPU in proportion to memory. */
export const megabytesPerVcpu = 1769;
/** Lambda's price per GB-second for arm64 (the stack's architecture), us-east-1, first tier, in US dollars. */
export const pricePerGbSecond = 0.0000133334;
/** The memory sizes modelled: the smallest sensible, the current default, one vCPU and more. */
export const lambdaMemorySizesMb = [256, 512, 1024, 1769, 3008] as const;

/** The vCPU share of a function of `memoryMb`. */
export function vcpuShare(memoryMb: number): number {
  return memoryMb / megabytesPerVcpu;
}

/** US dollars of function time to move one GiB at `mibPerSecond` with `memoryMb` (start-up not counted). */
export function costPerGiB(memoryMb: number, mibPerSecond: number): number {
  return pricePerGbSecond * (memoryMb / 1024) * (1024 / mibPerSecond);
}

/**
 * The model of an upload on a CPU share: as fast as its CPU allows (`cpuSecondsPerGiB` spread over
 * `share` vCPUs), never faster than it ran with the whole machine (`ceilingMibPerSecond`).
 */
export function modelledMibPerSecond(share: number, cpuSecondsPerGiB: number, ceilingMibPerSecond: number): number {
  return Math.min(ceilingMibPerSecond, (share * 1024) / cpuSecondsPerGiB);
}

export interface LambdaMemoryRow {
  readonly memoryMb: number;
  readonly share: number;
  /** Measured under the CPU quota (server-side window, median); CPU-s/GiB is the upload's own, start-up left out. */
  readonly mibPerSecond: number | undefined;
  readonly mibPerSecondSpread: Spread | undefined;
  readonly cpuSecondsPerGiB: number | undefined;
  /** What {@link modelledMibPerSecond} predicts from the unthrottled run, to check the model. */
  readonly modelMibPerSecond: number | undefined;
  readonly costPerGiB: number | undefined;
  readonly error?: string;
}

export interface LambdaMemoryResult {
  readonly target: string;
  readonly size: number;
  readonly label: string;
  /** Set when the machine cannot cap a process's CPU: then only the model (from CPU-s/GiB) is given. */
  readonly unsupported?: string;
  readonly unthrottled: { readonly mibPerSecond: number | undefined; readonly cpuSecondsPerGiB: number | undefined };
  readonly rows: LambdaMemoryRow[];
}

/**
 * Our S3 uploader under CPU quotas that stand for Lambda memory sizes (a cgroup caps the worker
 * process at memory ÷ 1,769 vCPUs), beside what the CPU-bound model predicts from the unthrottled
 * run; cost per GiB from the measured rate. Rounds rotate through the sizes, like the other sections.
 */
export async function measureLambdaMemory(target: UploadTarget, size: number, runs: number, context: ThroughputContext): Promise<LambdaMemoryResult> {
  const support = cpuQuotaSupport();
  const speeds = new Map<number | 'none', number[]>();
  const cpu = new Map<number | 'none', number[]>();
  const errors = new Map<number, string>();
  const memories: (number | 'none')[] = ['none', ...('reason' in support ? [] : lambdaMemorySizesMb)];
  for (let round = 0; round < runs; round += 1) {
    for (const memory of memories.map((_, index) => memories[(index + round) % memories.length]!)) {
      if (memory !== 'none' && errors.has(memory)) continue;
      const quota = memory === 'none' ? undefined : await createCpuQuota(vcpuShare(memory));
      try {
        const { record } = await uploadOnce(target, 'ours', size, undefined, context, undefined, quota);
        speeds.set(memory, [...(speeds.get(memory) ?? []), size / MiB / record.transferSeconds]);
        // The upload's own CPU (the worker's clock, without start-up): what the window's rate depends on.
        cpu.set(memory, [...(cpu.get(memory) ?? []), (record.uploadCpuSeconds ?? record.cpuSeconds) / (size / GiB)]);
        context.log(`  lambda ${target.name} ${memory === 'none' ? 'no quota' : `${memory} MB`}: ${(size / MiB / record.transferSeconds).toFixed(0)} MiB/s`);
      } catch (error) {
        if (memory === 'none') throw error;
        errors.set(memory, String(error));
      } finally {
        await quota?.close();
      }
    }
  }
  const unthrottled = { mibPerSecond: median(speeds.get('none') ?? []), cpuSecondsPerGiB: median(cpu.get('none') ?? []) };
  const rows = lambdaMemorySizesMb.map((memoryMb): LambdaMemoryRow => {
    const share = vcpuShare(memoryMb);
    const model =
      unthrottled.mibPerSecond === undefined || unthrottled.cpuSecondsPerGiB === undefined
        ? undefined
        : modelledMibPerSecond(share, unthrottled.cpuSecondsPerGiB, unthrottled.mibPerSecond);
    const measured = median(speeds.get(memoryMb) ?? []);
    const rate = measured ?? model;
    return {
      memoryMb,
      share,
      mibPerSecond: measured,
      mibPerSecondSpread: spreadOf(speeds.get(memoryMb) ?? []),
      cpuSecondsPerGiB: median(cpu.get(memoryMb) ?? []),
      modelMibPerSecond: model,
      costPerGiB: rate === undefined ? undefined : costPerGiB(memoryMb, rate),
      ...(errors.has(memoryMb) ? { error: errors.get(memoryMb) } : {}),
    };
  });
  return { target: target.name, size, label: sizeLabel(size), ...('reason' in support ? { unsupported: support.reason } : {}), unthrottled, rows };
}

/**
 * What a function's network moves at most, in the model: Lambda does not publish it; the cost
 * model (docs/cost-and-scale.md) takes 100 MiB/s from Lambda to S3 in one region, and published
 * measurements of functions moving files report 50–90 MiB/s. Below the memory at which the
 * upload's CPU keeps up with it, the cost per GiB is the same (CPU-bound: time × memory is
 * constant) and the upload slower; above it, more memory costs more per GiB and is no faster.
 */
export const assumedNetworkMibPerSecond = 100;
/** Memory over the peak RSS measured on loopback: the heap grows with a slower, longer upload. */
export const memoryHeadroom = 1.5;
const megabytesPerMiB = 1.048576;

/**
 * The memory size the model recommends for a destination: enough CPU that its upload keeps up
 * with {@link assumedNetworkMibPerSecond} (share = rate × CPU-s/GiB ÷ 1024), and enough memory for
 * its peak RSS with {@link memoryHeadroom}; whichever is larger, in steps of 64 MB, at least 256.
 */
export function recommendedMemoryMb(cpuSecondsPerGiB: number, peakRssMiB: number): { memoryMb: number; bound: 'cpu' | 'memory' } {
  const forCpu = (assumedNetworkMibPerSecond * cpuSecondsPerGiB * megabytesPerVcpu) / 1024;
  const forMemory = peakRssMiB * megabytesPerMiB * memoryHeadroom;
  const step = (value: number): number => Math.max(256, Math.ceil(value / 64) * 64);
  return forCpu >= forMemory ? { memoryMb: step(forCpu), bound: 'cpu' } : { memoryMb: step(forMemory), bound: 'memory' };
}
