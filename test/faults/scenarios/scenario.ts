import type { FaultDestination } from '../destinations/fault-destination.ts';
import type { CallbackReceiver } from '../harness/callbacks.ts';
import type { PlannedDelivery, SubmittedDelivery } from '../harness/jobs.ts';
import type { AwsProxies, FaultRuntime, RuntimeSettings } from '../harness/runtime.ts';
import type { SourceCatalog } from '../harness/sources.ts';

/** How many deliveries a scenario makes: the recorded run, or the small version `npm test` runs. */
export type Scale = 'full' | 'small';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** What a scenario acts on while it runs. */
export interface ScenarioContext {
  readonly runtime: FaultRuntime;
  readonly destinations: ReadonlyMap<string, FaultDestination>;
  readonly aws: AwsProxies;
  readonly sources: SourceCatalog;
  readonly callbacks: CallbackReceiver;
  readonly settings: RuntimeSettings;
  readonly scale: Scale;
  /** Seeded, so a scenario's faults land the same way when it is run again. */
  readonly random: () => number;
  /** Deliveries submitted so far. */
  readonly submitted: () => readonly SubmittedDelivery[];
  /** Whether every delivery has finished (so a scenario stops acting). */
  readonly finished: () => boolean;
  /** Counts a fault the scenario acted out itself (a crash, a restart, a duplicated message). */
  count(label: string): void;
  log(line: string): void;
}

/**
 * One fault kind, runnable alone (`npm run faults -- --scenario=<name>`): the deliveries it makes,
 * the faults it arms on the proxies before they start, and what it does while they run.
 */
export interface Scenario {
  readonly name: string;
  /** The fault, in a line, for the results table. */
  readonly description: string;
  /** Runtime settings it needs beyond the run's. */
  readonly settings?: Partial<RuntimeSettings>;
  plan(types: readonly string[], scale: Scale): PlannedDelivery[];
  /** Arms faults on the proxies before the first delivery is submitted. */
  arm?(context: ScenarioContext, deliveries: readonly PlannedDelivery[]): void;
  /** Acts while the deliveries run; resolves once it is done acting. */
  during?(context: ScenarioContext): Promise<void>;
  /** Sees each message body an event source hands a destination function. */
  onMessage?(body: string, context: ScenarioContext): void;
  /** Redrive the dead-letter queues once drained, the faults ended, and drain again. */
  readonly redrive?: boolean;
  /** Requests in flight to the API while submitting. @default 8 */
  readonly submitConcurrency?: number;
  /** How long its deliveries may take to drain. @default the run's */
  readonly drainSeconds?: number;
  /** Figures of its own, taken once its deliveries drained, for the results file. */
  measure?(context: ScenarioContext, deliveries: readonly SubmittedDelivery[]): Promise<Record<string, unknown>>;
}

/**
 * Deliveries for every destination type in `types`: one per size for each, named
 * `<scenario>-<type>-<n>.bin`, every third read from a source URL rather than the staging bucket.
 */
export function deliveriesFor(scenario: string, types: readonly string[], sizes: readonly number[], expect: PlannedDelivery['expect'] = 'delivered'): PlannedDelivery[] {
  return types.flatMap((type) =>
    sizes.map((size, index) => ({
      name: `${scenario}-${type}-${index + 1}.bin`,
      type,
      size,
      via: index % 3 === 2 ? ('url' as const) : ('staging' as const),
      expect,
    })),
  );
}

/** A seeded generator (mulberry32): the same seed draws the same faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waits until `condition` holds (polled every 50 ms), or `timeoutMs` passes; returns whether it held. */
export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/**
 * How many faults that can each cost an attempt one destination gets in a scenario: fewer than the
 * attempts a delivery has, so even if every one hit the same delivery it would still have one left,
 * and a delivery that ends `failed` was failed wrongly.
 */
export function faultBudget(maxAttempts: number): number {
  return Math.max(1, maxAttempts - 2);
}
