import type { ClientName } from '../clients/commands.ts';
import { GiB, MiB, ratio } from '../measure/stats.ts';
import type { ColdStartResult } from '../sections/cold-start.ts';
import type { MemoryResult } from '../sections/memory.ts';
import type { ClientSummary, ThroughputResult } from '../sections/throughput.ts';

/** One target of issue 4, judged on this run's figures (ratios within one run, never timed tests). */
export interface GoalCheck {
  readonly goal: string;
  readonly measured: string;
  /** undefined: not measured in this run (say why in `measured`). */
  readonly met: boolean | undefined;
}

/** The size the issue's targets speak of (1 GiB) when measured, else the largest one. */
function headlineSize(result: ThroughputResult): ThroughputResult['sizes'][number] | undefined {
  return result.sizes.find((size) => size.size === GiB) ?? [...result.sizes].sort((a, b) => b.size - a.size)[0];
}

function summaryOf(result: ThroughputResult, client: ClientName): { label: string; summary: ClientSummary | undefined } {
  const size = headlineSize(result);
  return { label: size?.label ?? '?', summary: size?.clients.find((item) => item.client === client)?.summary };
}

const times = (value: number | undefined): string => (value === undefined ? '?' : `${value.toFixed(2)}×`);

function ratioGoal(
  result: ThroughputResult,
  other: ClientName,
  metric: 'mibPerSecond' | 'cpuSecondsPerGiB',
  bound: number,
  direction: 'at least' | 'at most',
): GoalCheck {
  const ours = summaryOf(result, 'ours');
  const theirs = summaryOf(result, other);
  const value = ratio(ours.summary?.[metric], theirs.summary?.[metric]);
  const unit = metric === 'mibPerSecond' ? 'MiB/s' : 'CPU-s/GiB';
  const format = (figure: number | undefined): string => (figure === undefined ? '?' : metric === 'mibPerSecond' ? figure.toFixed(0) : figure.toFixed(2));
  const goal = `${result.target} ${ours.label}: ${unit} ${direction} ${bound}× ${other}'s`;
  if (value === undefined) return { goal, measured: `not measured (ours ${format(ours.summary?.[metric])}, ${other} ${format(theirs.summary?.[metric])})`, met: undefined };
  const met = direction === 'at least' ? value >= bound : value <= bound;
  const gap = direction === 'at least' ? bound / value - 1 : 1 - bound / value;
  const shortBy = met ? '' : `; misses: needs ${direction === 'at least' ? '+' : '−'}${(gap * 100).toFixed(0)}% ${unit}`;
  return { goal, measured: `${times(value)} (ours ${format(ours.summary?.[metric])} vs ${format(theirs.summary?.[metric])} ${unit})${shortBy}`, met };
}

export function throughputGoals(result: ThroughputResult | undefined, kind: 'sink' | 's3rver'): GoalCheck[] {
  if (!result) return [];
  if (kind === 's3rver') return [ratioGoal(result, 'aws-cli', 'mibPerSecond', 1, 'at least')];
  return [
    ratioGoal(result, 'aws-cli', 'mibPerSecond', 1, 'at least'),
    ratioGoal(result, 'plain-put', 'mibPerSecond', 0.7, 'at least'),
    ratioGoal(result, 'aws-cli', 'cpuSecondsPerGiB', 0.8, 'at most'),
  ];
}

export function memoryGoals(result: MemoryResult | undefined): GoalCheck[] {
  if (!result) return [];
  const sizes = result.sizes.filter((size) => size.peakRssMiB !== undefined).sort((a, b) => a.size - b.size);
  const smallest = sizes[0];
  const largest = sizes[sizes.length - 1];
  if (!smallest || !largest || smallest === largest) {
    return [{ goal: `${result.target}: peak RSS flat with source size`, measured: 'fewer than two sizes measured', met: undefined }];
  }
  const growth = (largest.peakRssMiB ?? 0) / (smallest.peakRssMiB ?? 1) - 1;
  const peak = Math.max(...sizes.map((size) => size.peakRssMiB ?? 0));
  return [
    {
      goal: `${result.target}: peak RSS at ${largest.label} within 20% of the ${smallest.label} run`,
      measured: `${largest.peakRssMiB?.toFixed(0)} vs ${smallest.peakRssMiB?.toFixed(0)} MiB (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(0)}%); all: ${sizes.map((size) => `${size.label} ${size.peakRssMiB?.toFixed(0)}`).join(', ')}`,
      met: growth <= 0.2,
    },
    { goal: `${result.target}: peak RSS under 256 MiB at every size`, measured: `highest ${peak.toFixed(0)} MiB`, met: peak < 256 },
  ];
}

export function coldStartGoals(result: ColdStartResult | undefined): GoalCheck[] {
  if (!result) return [];
  if (result.entries.length === 0) return [{ goal: 'every function ≤ 1.5 MiB and ≤ 120 ms import', measured: 'no function entries found', met: undefined }];
  return result.entries.map((entry) => {
    const goal = `${entry.name} function: bundle ≤ 1.5 MiB, import ≤ 120 ms over bare Node`;
    if (entry.bundleBytes === undefined || entry.importMs === undefined) return { goal, measured: `not measured: ${entry.error ?? 'unknown'}`, met: undefined };
    const size = entry.bundleBytes / MiB;
    return {
      goal,
      measured: `${size.toFixed(2)} MiB, +${entry.importMs.toFixed(0)} ms`,
      met: size <= 1.5 && entry.importMs <= 120,
    };
  });
}
