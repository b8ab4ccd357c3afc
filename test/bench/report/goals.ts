import type { ClientName } from '../clients/commands.ts';
import { GiB, ratio } from '../measure/stats.ts';
import type { ColdStartResult } from '../sections/cold-start.ts';
import type { ClientSummary, ThroughputResult } from '../sections/throughput.ts';

/** One target of the issues (4, 13), judged on this run's figures (ratios within one run, never timed tests). */
export interface GoalCheck {
  readonly goal: string;
  readonly measured: string;
  /** undefined: not measured in this run (say why in `measured`). */
  readonly met: boolean | undefined;
}

/** The size the targets speak of (1 GiB) when measured, else the largest one. */
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

/** Issue 4's row that still applies: into s3rver (disk-backed), at least the AWS CLI's rate. */
export function s3rverGoals(result: ThroughputResult | undefined): GoalCheck[] {
  return result ? [ratioGoal(result, 'aws-cli', 'mibPerSecond', 1, 'at least')] : [];
}

/** Issue 13: every function bundles to at most 700 KiB and imports in at most 80 ms over bare Node. */
export function coldStartGoals(result: ColdStartResult | undefined): GoalCheck[] {
  if (!result) return [];
  if (result.entries.length === 0) return [{ goal: 'every function ≤ 700 KiB and ≤ 80 ms import', measured: 'no function entries found', met: undefined }];
  return result.entries.map((entry) => {
    const goal = `${entry.name} function: bundle ≤ 700 KiB, import ≤ 80 ms over bare Node`;
    if (entry.bundleBytes === undefined || entry.importMs === undefined) return { goal, measured: `not measured: ${entry.error ?? 'unknown'}`, met: undefined };
    const kib = entry.bundleBytes / 1024;
    return {
      goal,
      measured: `${kib.toFixed(0)} KiB, +${entry.importMs.toFixed(0)} ms`,
      met: kib <= 700 && entry.importMs <= 80,
    };
  });
}
