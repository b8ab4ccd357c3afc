export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Median of the values that are numbers; undefined when there are none. */
export function median(values: readonly (number | undefined)[]): number | undefined {
  const sorted = values.filter((value): value is number => value !== undefined && Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function percentile(values: readonly number[], fraction: number): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

/** `a / b`, or undefined when either is missing or b is zero. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** "64 MiB", "1 GiB", "1.5 KiB": sizes as the tables and result keys name them. */
export function sizeLabel(bytes: number): string {
  for (const [unit, scale] of [['GiB', GiB], ['MiB', MiB], ['KiB', KiB]] as const) {
    if (bytes >= scale) return `${Number((bytes / scale).toFixed(2))} ${unit}`;
  }
  return `${bytes} B`;
}

/** Parses "64M", "64MiB", "1G", "4096" (bytes). */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg])?(?:i?b)?\s*$/i.exec(text);
  if (!match) throw new Error(`not a size: '${text}' (use e.g. 64M, 1G)`);
  const scale = { k: KiB, m: MiB, g: GiB }[(match[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  return Math.round(Number(match[1]) * scale);
}

/** How far a figure moved across the runs it is the median of: tells a real change from noise. */
export interface Spread {
  readonly min: number;
  readonly max: number;
  /** (max − min) / median: 0.1 means the runs lay within 10 % of the median's size of each other. */
  readonly relative: number;
  readonly runs: number;
}

/** The spread of the values that are numbers; undefined when there are none. */
export function spreadOf(values: readonly (number | undefined)[]): Spread | undefined {
  const numbers = values.filter((value): value is number => value !== undefined && Number.isFinite(value));
  const middle = median(numbers);
  if (middle === undefined) return undefined;
  const min = Math.min(...numbers);
  const max = Math.max(...numbers);
  return { min, max, relative: middle === 0 ? 0 : (max - min) / middle, runs: numbers.length };
}

/** "±4%" (half the relative spread), "1 run" when there is nothing to compare. */
export function spreadLabel(spread: Spread | undefined): string {
  if (!spread) return '–';
  if (spread.runs < 2) return '1 run';
  return `±${((spread.relative / 2) * 100).toFixed(0)}%`;
}
