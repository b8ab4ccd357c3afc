import type { ScenarioResult } from '../harness/run-scenario.ts';
import type { TargetCheck } from './figures.ts';

/** What the load measures beside the figures: see `loadScenario`. */
export interface LoadMeasures {
  readonly timing: Readonly<Record<string, { jobs: number; calledBack: number; wallSeconds: number; latencySeconds: { p50: number; p95: number; max: number } }>>;
  readonly configuredConcurrency: Readonly<Record<string, number>>;
  readonly memory: Readonly<Record<string, { firstQuarterPeakMiB: number; lastQuarterPeakMiB: number; peakMiB: number }>>;
}

/**
 * A function's memory is flat when its peak in the last quarter of the load is no more than a
 * fifth (and 16 MiB) above its peak in the first quarter: it does not grow with the jobs it has done.
 */
export function memoryIsFlat(memory: { firstQuarterPeakMiB: number; lastQuarterPeakMiB: number }): boolean {
  return memory.lastQuarterPeakMiB <= memory.firstQuarterPeakMiB * 1.2 + 16;
}

/** The load's targets: every job delivered once, no partial left, concurrency within bounds, memory flat, stuck jobs ended. */
export function checkLoad(load: ScenarioResult): TargetCheck[] {
  const measured = load.measured as LoadMeasures | undefined;
  const { figures } = load;
  const delivered = figures.deliveries - figures.lost - figures.failures;
  const checks: TargetCheck[] = [
    { figure: 'load: jobs delivered', target: 'all', value: `${delivered}/${figures.deliveries}`, met: delivered === figures.deliveries },
    { figure: 'load: delivered twice, or partial results left', target: '0', value: String(figures.deliveredTwice + figures.partialLeft), met: figures.deliveredTwice + figures.partialLeft === 0 },
  ];
  if (!measured) return [...checks, { figure: 'load: measures', target: 'taken', value: 'missing', met: false }];
  for (const [type, configured] of Object.entries(measured.configuredConcurrency)) {
    const peak = load.peakConcurrentUploads[type]?.peak;
    checks.push({ figure: `load: ${type} uploads at once at its server`, target: `≤ ${configured}`, value: String(peak ?? 'n/a'), met: peak !== undefined && peak <= configured });
  }
  for (const [name, memory] of Object.entries(measured.memory)) {
    checks.push({
      figure: `load: ${name} function memory flat`,
      target: 'last quarter ≤ first × 1.2 + 16 MiB',
      value: `${memory.firstQuarterPeakMiB} → ${memory.lastQuarterPeakMiB} MiB`,
      met: memoryIsFlat(memory),
    });
  }
  const stuck = measured.timing.stuck;
  if (stuck) checks.push({ figure: 'load: stuck jobs ended', target: 'all', value: `${stuck.calledBack}/${stuck.jobs}`, met: stuck.calledBack === stuck.jobs });
  return checks;
}
