import { resentRatio, type Figures } from './figures.ts';
import type { LoadMeasures } from './load-checks.ts';
import type { FaultResults } from './results.ts';

function render(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: readonly string[]): string => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;
const share = (part: number, whole: number): string => (whole === 0 ? '–' : `${part}/${whole}`);

function figureCells(figures: Figures): string[] {
  return [
    String(figures.deliveries),
    String(figures.lost),
    String(figures.deliveredTwice),
    String(figures.partialLeft),
    String(figures.wronglyFailed),
    percent(resentRatio(figures)),
    share(figures.failuresWithReason, figures.failures),
    share(figures.deadLettersNamingJob, figures.deadLetters),
    String(figures.disagreements),
    String(figures.callbacksRepeated),
  ];
}

const figureHeadings = ['deliveries', 'lost', 'twice', 'partial', 'wrongly failed', 're-sent', 'failures with reason', 'DLQ naming job', 'disagree', 'callback again'];

/** The run's tables as Markdown: the figures per scenario and in all, the targets, and the load's own figures. */
export function renderResults(results: FaultResults): string {
  const scenarioRows = results.scenarios.map((scenario) => [
    scenario.name,
    ...figureCells(scenario.figures),
    String(Object.values(scenario.faults).reduce((sum, count) => sum + count, 0)),
    String(scenario.seconds),
  ]);
  const parts = [
    render([['scenario', ...figureHeadings, 'faults', 's'], ...scenarioRows, ['all faults', ...figureCells(results.total), '', String(results.durationSeconds)]]),
    render([['figure', 'target', 'this run', 'met'], ...results.targets.map((target) => [target.figure, target.target, target.value, target.met ? 'yes' : 'NO'])]),
  ];
  const load = results.scenarios.find((scenario) => scenario.name === 'load');
  if (load?.measured) {
    const measured = load.measured as unknown as LoadMeasures;
    parts.push(
      render([
        ['load jobs', 'jobs', 'called back', 'wall s', 'p50 s', 'p95 s', 'max s'],
        ...Object.entries(measured.timing).map(([group, timing]) => [
          group,
          String(timing.jobs),
          String(timing.calledBack),
          String(timing.wallSeconds),
          timing.latencySeconds.p50.toFixed(1),
          timing.latencySeconds.p95.toFixed(1),
          timing.latencySeconds.max.toFixed(1),
        ]),
      ]),
      render([
        ['destination', 'invocations at once (configured)', 'uploads at once at the server (peak)'],
        ...Object.entries(measured.configuredConcurrency).map(([type, configured]) => [type, String(configured), String(load.peakConcurrentUploads[type]?.peak ?? 'n/a')]),
      ]),
      render([
        ['function', 'peak MiB, first quarter', 'peak MiB, last quarter', 'peak MiB'],
        ...Object.entries(measured.memory).map(([name, memory]) => [name, String(memory.firstQuarterPeakMiB), String(memory.lastQuarterPeakMiB), String(memory.peakMiB)]),
      ]),
    );
  }
  return parts.join('\n\n');
}
