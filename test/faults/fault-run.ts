import { beforeAll, describe, expect, it } from 'vitest';
import { runFaults } from './harness/run-faults.ts';
import type { ScenarioResult } from './harness/run-scenario.ts';
import type { RuntimeSettings } from './harness/runtime.ts';
import type { FaultResults } from './report/results.ts';
import type { Scenario } from './scenarios/scenario.ts';

/**
 * The small version's runtime: three attempts, and a 30 s function timeout (its last 15 s kept for
 * cleanup), so crashed and cut-off attempts come back within seconds. An attempt's 15 s to upload
 * leave room for a machine shared with other work: with 5 s (a 20 s timeout), the 17 MiB uploads
 * of eight destinations at once timed out three times over on a busy 2-core machine.
 */
const testSettings: RuntimeSettings = { maxAttempts: 3, retryBaseSeconds: 1, functionTimeoutSeconds: 30, visibilityTimeoutSeconds: 32, concurrency: 4 };

/**
 * Runs `scenarios` in their small version (a delivery or two per destination each) and checks the
 * issue's targets on each, counted from the servers' side: the suite `npm test` runs of `npm run faults`.
 */
export function describeFaultRun(title: string, scenarios: readonly Scenario[]): void {
  describe(title, () => {
    let results: FaultResults;

    beforeAll(async () => {
      results = await runFaults({ scenarios, scale: 'small', seed: 12, settings: testSettings, drainSeconds: 120, log: () => undefined });
    }, 300_000);


    const result = (name: string): ScenarioResult => {
      const found = results.scenarios.find((scenario) => scenario.name === name);
      if (!found) throw new Error(`scenario ${name} did not run`);
      return found;
    };

    it('drives every destination of the registry', () => {
      expect(results.skipped).toEqual([]);
    });

    describe.each(scenarios.map((scenario) => [scenario.name]))('%s', (name) => {
      it('acts its faults out', () => {
        expect(Object.values(result(name).faults).reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
      });

      it('loses nothing, writes nothing twice, leaves nothing partial and fails nothing wrongly', () => {
        const { figures, problems } = result(name);
        expect(problems).toEqual([]);
        expect(figures).toMatchObject({ lost: 0, deliveredTwice: 0, partialLeft: 0, wronglyFailed: 0, disagreements: 0 });
        expect(figures.deliveries).toBeGreaterThan(0);
      });

      it('gives every failure a reason, and every dead-letter message names its job', () => {
        const { figures } = result(name);
        expect(figures.failuresWithReason).toBe(figures.failures);
        expect(figures.deadLettersNamingJob).toBe(figures.deadLetters);
      });
    });
  });
}
