import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { describeMachine } from '../../support/machine.ts';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { destinationTypes } from '../../../functions/destinations/registry.ts';
import { faultDestinations } from '../destinations/index.ts';
import type { FaultDestination } from '../destinations/fault-destination.ts';
import { startHttpFaultProxy } from '../../support/fault-proxy/http-fault-proxy.ts';
import { addFigures, checkTargets, noFigures } from '../report/figures.ts';
import { checkLoad } from '../report/load-checks.ts';
import { definitions, type FaultResults } from '../report/results.ts';
import type { Scale, Scenario } from '../scenarios/scenario.ts';
import { startCallbackReceiver } from './callbacks.ts';
import { runScenario } from './run-scenario.ts';
import { RuntimePool, type AwsProxies, type RuntimeSettings } from './runtime.ts';
import { SourceCatalog } from './sources.ts';

export interface FaultRunOptions {
  readonly scenarios: readonly Scenario[];
  readonly scale: Scale;
  readonly seed: number;
  readonly settings: RuntimeSettings;
  /** Destination types to drive. @default every one the registry and the run both know */
  readonly destinations?: readonly string[];
  readonly drainSeconds: number;
  /** Receives the functions' logs. @default dropped */
  readonly functionLog?: (text: string) => void;
  /** Called with the results after each scenario (to save them as the run goes). */
  readonly onProgress?: (results: FaultResults) => Promise<void>;
  log(line: string): void;
}

/** The run's settings: short timeouts so crashed attempts come back soon, one message per invocation. */
export const defaultSettings: RuntimeSettings = {
  maxAttempts: 5,
  retryBaseSeconds: 1,
  functionTimeoutSeconds: 60,
  visibilityTimeoutSeconds: 65,
  concurrency: 4,
};


/**
 * Runs the given fault scenarios against every destination of the registry that has a fault-run
 * entry: starts each destination's server behind its proxy, the proxies in front of the runtime's
 * SQS, DynamoDB and S3, the source server and the callback receiver, then each scenario on a fresh
 * runtime, and gathers the figures.
 */
export async function runFaults(options: FaultRunOptions): Promise<FaultResults> {
  const started = Date.now();
  const scratch = await mkdtemp(join(tmpdir(), 'ud-faults-'));
  const closers: (() => Promise<void>)[] = [];
  const skipped: FaultResults['skipped'] = [];
  const environment = new Map<string, string | undefined>();
  try {
    const wanted = options.destinations ?? destinationTypes;
    const destinations = new Map<string, FaultDestination>();
    for (const type of destinationTypes) {
      if (!wanted.includes(type)) continue;
      const start = faultDestinations[type];
      if (!start) {
        skipped.push({ what: type, reason: 'no fault-run entry yet (test/faults/destinations/index.ts)' });
        continue;
      }
      try {
        options.log(`starting the ${type} server behind its proxy`);
        const destination = await start();
        destinations.set(type, destination);
        closers.push(() => destination.close());
      } catch (error) {
        skipped.push({ what: type, reason: `its server did not start: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
    for (const destination of destinations.values()) {
      for (const [name, value] of Object.entries(destination.environment)) {
        environment.set(name, process.env[name]);
        // The functions inherit the environment: this is how an operator points them at other servers.
        process.env[name] = value;
      }
    }
    const aws: AwsProxies = { sqs: await startHttpFaultProxy(), dynamodb: await startHttpFaultProxy(), s3: await startHttpFaultProxy() };
    for (const proxy of Object.values(aws)) closers.push(() => proxy.close());
    const sourcesDirectory = join(scratch, 'sources');
    await mkdir(sourcesDirectory);
    const sources = await SourceCatalog.start(sourcesDirectory);
    closers.push(() => sources.close());
    const callbacks = await startCallbackReceiver();
    closers.push(() => callbacks.close());

    const results: FaultResults = {
      generatedAt: new Date().toISOString(),
      durationSeconds: 0,
      machine: await describeMachine(),
      loadAverageAtEnd: [],
      options: { scenarios: options.scenarios.map((scenario) => scenario.name), scale: options.scale, seed: options.seed, destinations: [...destinations.keys()] },
      settings: options.settings,
      skipped,
      scenarios: [],
      total: noFigures,
      targets: [],
      definitions,
    };
    let plumbingErrors = 0;
    const runtimes = new RuntimePool(join(scratch, 'state'), aws, {
      // The local runtime's own plumbing (its event sources, its S3 events) failing: the faults
      // it meets on purpose (a throttled receive) land here too, so they are only counted.
      onError: () => (plumbingErrors += 1),
      onLog: options.functionLog ?? (() => undefined),
      onDestinationCrash: (type) => destinations.get(type)?.faults.proxy.clientsGone(),
    });
    closers.push(() => runtimes.close());
    const run = {
      runtimes,
      settings: options.settings,
      destinations,
      aws,
      sources,
      callbacks,
      scale: options.scale,
      seed: options.seed,
      drainSeconds: options.drainSeconds,
      log: options.log,
    };
    for (const scenario of options.scenarios) {
      options.log(`scenario ${scenario.name}: ${scenario.description}`);
      const result = await runScenario(scenario, run);
      results.scenarios.push(result);
      // The issue's figures are the fault scenarios'; the load has targets of its own.
      results.total = results.scenarios.filter((each) => each.name !== 'load').reduce((sum, each) => addFigures(sum, each.figures), noFigures);
      const load = results.scenarios.find((each) => each.name === 'load');
      results.targets = [...(results.total.deliveries > 0 ? checkTargets(results.total) : []), ...(load ? checkLoad(load) : [])];
      results.durationSeconds = Math.round((Date.now() - started) / 1000);
      results.loadAverageAtEnd = loadavg();
      options.log(`scenario ${scenario.name}: ${result.seconds} s, ${result.problems.length} problem(s), ${plumbingErrors} runtime plumbing error(s) so far`);
      for (const problem of result.problems) options.log(`  ${problem}`);
      await options.onProgress?.(results);
    }
    return results;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    for (const [name, value] of environment) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await rm(scratch, { recursive: true, force: true });
  }
}
