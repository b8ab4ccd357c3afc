import { GiB, median, MiB, sizeLabel, spreadOf, type Spread } from '../measure/stats.ts';
import { verifiedRunIsTimed } from '../measure/rounds.ts';
import { uploadOnce, type ThroughputContext, type UploadTarget } from './throughput.ts';

/** Settings of the project's multipart code to try; `{}` is the shipped default. */
export interface TuningVariant {
  readonly name: string;
  readonly tuning: Readonly<Record<string, number>>;
}

export const tuningVariants: readonly TuningVariant[] = [
  { name: 'default (as shipped)', tuning: {} },
  { name: '8 MiB × 4', tuning: { partSizeMiB: 8, concurrency: 4 } },
  { name: '8 MiB × 4, held (one read of the source)', tuning: { partSizeMiB: 8, concurrency: 4, streamedParts: 0 } },
  { name: '16 MiB × 4', tuning: { partSizeMiB: 16, concurrency: 4 } },
  { name: '16 MiB × 8', tuning: { partSizeMiB: 16, concurrency: 8, maxBytesInFlightMiB: 128 } },
  { name: '32 MiB × 4', tuning: { partSizeMiB: 32, concurrency: 4, maxBytesInFlightMiB: 128 } },
  { name: 'one streamed PUT, CRC-32 trailer', tuning: { streamedPutMaxMiB: 1024 * 1024 } },
];

/** `--quick`: the shipped settings, held parts and the streamed PUT, each code path once, without the sweep. */
export const quickTuningVariants: readonly TuningVariant[] = tuningVariants.filter(
  ({ name, tuning }) => name === 'default (as shipped)' || 'streamedParts' in tuning || 'streamedPutMaxMiB' in tuning,
);

/**
 * The single-PUT/multipart switch: the same file without a streamed PUT (one PUT of its bytes read
 * whole up to one part, parts above) and as one streamed PUT, at every size.
 */
export const switchVariants: readonly TuningVariant[] = [
  { name: 'held up to a part, parts above', tuning: { streamedPutMaxMiB: 0 } },
  { name: 'one streamed PUT, CRC-32 trailer', tuning: { streamedPutMinMiB: 0, streamedPutMaxMiB: 1024 * 1024 } },
];

export interface TuningResult {
  readonly target: string;
  readonly size: number;
  readonly label: string;
  readonly variants: {
    readonly name: string;
    readonly tuning: Readonly<Record<string, number>>;
    readonly mibPerSecond: number | undefined;
    readonly mibPerSecondSpread: Spread | undefined;
    readonly cpuSecondsPerGiB: number | undefined;
    readonly cpuSpread: Spread | undefined;
    readonly maxRssMiB: number | undefined;
    readonly integrity: readonly string[] | undefined;
    readonly error?: string;
  }[];
}

/**
 * Our multipart code under other part sizes and concurrencies, and as one streamed PUT, so the uploader's
 * defaults can be chosen from figures. Rounds rotate through the variants like the main comparison.
 */
export async function measureTuning(
  target: UploadTarget,
  size: number,
  runs: number,
  context: ThroughputContext,
  variants: readonly TuningVariant[] = tuningVariants,
): Promise<TuningResult> {
  const records = new Map(variants.map((variant) => [variant.name, { speeds: [] as number[], cpu: [] as number[], rss: [] as number[], integrity: undefined as readonly string[] | undefined, error: undefined as string | undefined }]));
  const verifiedIsTimed = verifiedRunIsTimed(runs);
  const send = (variant: TuningVariant): ReturnType<typeof uploadOnce> => uploadOnce(target, 'ours', size, undefined, context, { ...variant.tuning, bench: 1 });
  const keep = (variant: TuningVariant, { record: run, stored }: Awaited<ReturnType<typeof uploadOnce>>): void => {
    const record = records.get(variant.name)!;
    record.speeds.push(size / MiB / run.transferSeconds);
    record.cpu.push(run.cpuSeconds / (size / GiB));
    record.rss.push(run.maxRssMiB);
    record.integrity = stored.integrity;
    context.log(`  tuning ${target.name} ${variant.name}: ${(size / MiB / run.transferSeconds).toFixed(0)} MiB/s, ${(run.cpuSeconds / (size / GiB)).toFixed(2)} CPU-s/GiB`);
  };
  // One verified run per variant first: a setting that sends wrong digests must fail, not look fast.
  target.setVerify(true);
  for (const variant of variants) {
    const record = records.get(variant.name)!;
    try {
      const sent = await send(variant);
      if (verifiedIsTimed) keep(variant, sent);
    } catch (error) {
      record.error = `verified run failed: ${String(error)}`;
      context.log(`  tuning ${variant.name}: ${record.error}`);
    }
  }
  target.setVerify(false);
  for (let round = verifiedIsTimed ? 1 : 0; round < runs; round += 1) {
    // Rotated each round, so drift on a shared machine spreads over all variants.
    const order = variants.map((_, index) => variants[(index + round) % variants.length]!);
    for (const variant of order) {
      const record = records.get(variant.name)!;
      if (record.error) continue;
      try {
        keep(variant, await send(variant));
      } catch (error) {
        record.error = String(error);
        context.log(`  tuning ${variant.name} failed: ${record.error}`);
      }
    }
  }
  return {
    target: target.name,
    size,
    label: sizeLabel(size),
    variants: variants.map((variant) => {
      const record = records.get(variant.name)!;
      return {
        name: variant.name,
        tuning: variant.tuning,
        mibPerSecond: median(record.speeds),
        mibPerSecondSpread: spreadOf(record.speeds),
        cpuSecondsPerGiB: median(record.cpu),
        cpuSpread: spreadOf(record.cpu),
        maxRssMiB: median(record.rss),
        integrity: record.integrity,
        ...(record.error ? { error: record.error } : {}),
      };
    }),
  };
}
