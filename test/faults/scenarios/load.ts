import { resourceNames } from '../../../infra/resources.ts';
import type { SubmittedDelivery } from '../harness/jobs.ts';
import type { CallbackReceiver } from '../harness/callbacks.ts';
import { KiB, MiB, type Scenario, type ScenarioContext } from './scenario.ts';

/** Invocations at once per destination in the load: the local stand-in for each function's maxConcurrency. */
export const loadConcurrency: Readonly<Record<string, number>> = { s3: 6, azureblob: 6, youtube: 3, dropbox: 4, http: 6, sftp: 4, facebook: 3, ftp: 4 };

/** The load's shape: a burst of small jobs, a burst of large ones, and a few that get stuck. */
export interface LoadShape {
  readonly smallJobs: number;
  readonly smallBytes: number;
  readonly largeJobs: number;
  readonly largeBytes: number;
  /** Jobs per destination whose first upload stalls for good (a server that stops reading). */
  readonly stuckPerDestination: number;
}

export const fullLoad: LoadShape = { smallJobs: 5000, smallBytes: KiB, largeJobs: 100, largeBytes: 64 * MiB, stuckPerDestination: 2 };
export const smallLoad: LoadShape = { smallJobs: 120, smallBytes: KiB, largeJobs: 6, largeBytes: 17 * MiB + 3, stuckPerDestination: 1 };

/** The stuck jobs' size: smaller than any destination's part or chunk, so one request carries it. */
const stuckBytes = 5 * MiB + 17;

/** One function's memory over the load. */
interface MemoryTrace {
  /** [seconds since start, heap used MiB, external (buffers) MiB] */
  readonly samples: [number, number, number][];
}

function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

/** Seconds from submission to the callback, for each delivery called back. */
function latencies(deliveries: readonly SubmittedDelivery[], callbacks: CallbackReceiver): number[] {
  return deliveries.flatMap((delivery) => {
    const first = callbacks.received.get(delivery.token)?.[0];
    return first ? [(first.at - delivery.submittedAt) / 1000] : [];
  });
}

/** Peak (heap + buffers) in the first and the last quarter of the samples, and overall. */
function memorySummary(trace: MemoryTrace): { firstQuarterPeakMiB: number; lastQuarterPeakMiB: number; peakMiB: number; samples: number } {
  const totals = trace.samples.map(([, heap, external]) => heap + external);
  const quarter = Math.max(1, Math.floor(totals.length / 4));
  const round = (value: number): number => Math.round(value * 10) / 10;
  return {
    firstQuarterPeakMiB: round(Math.max(0, ...totals.slice(0, quarter))),
    lastQuarterPeakMiB: round(Math.max(0, ...totals.slice(-quarter))),
    peakMiB: round(Math.max(0, ...totals)),
    samples: totals.length,
  };
}

/**
 * The load: a burst of small jobs and one of large jobs at once, spread over every destination,
 * with a few jobs per destination whose first upload stalls for good. Every job must be delivered
 * once; each function's memory must stay flat (sampled from its thread's V8 heap and buffers); no
 * destination's server may see more uploads at once than its function may run; the stuck jobs must
 * not hold the others back for longer than it takes to notice them.
 */
export function loadScenario(shape: LoadShape): Scenario {
  const memory = new Map<string, MemoryTrace>();
  const stuckNames = new Set<string>();
  return {
    name: 'load',
    description: `${shape.smallJobs} jobs of ${shape.smallBytes} bytes and ${shape.largeJobs} of ${Math.round(shape.largeBytes / MiB)} MiB at once`,
    // A timeout Lambda allows (the stack's is 900 s): the load is about concurrency and memory, and
    // the run's 60 s would cut 64 MiB uploads on this loaded machine. An attempt cut by its deadline
    // leaves its last request open at the server until the server has read what was sent ahead
    // (the kernel's buffers, the proxy's read-ahead), seconds on a loaded machine, while the next
    // attempt's requests begin: the server would count both. Deadlines are the timeout scenario's.
    settings: { concurrency: loadConcurrency, functionTimeoutSeconds: 300, visibilityTimeoutSeconds: 305 },
    submitConcurrency: 32,
    drainSeconds: 1800,
    plan: (types) => {
      const deliveries = [];
      for (let index = 0; index < shape.largeJobs; index += 1) {
        const type = types[index % types.length]!;
        deliveries.push({ name: `load-large-${type}-${index}.bin`, type, size: shape.largeBytes, via: 'staging' as const, expect: 'delivered' as const });
      }
      for (const type of types) {
        for (let index = 0; index < shape.stuckPerDestination; index += 1) {
          const name = `load-stuck-${type}-${index}.bin`;
          stuckNames.add(name);
          deliveries.push({ name, type, size: stuckBytes, via: 'staging' as const, expect: 'delivered' as const });
        }
      }
      for (let index = 0; index < shape.smallJobs; index += 1) {
        const type = types[index % types.length]!;
        deliveries.push({ name: `load-small-${type}-${index}.bin`, type, size: shape.smallBytes, via: index % 10 === 9 ? ('url' as const) : ('staging' as const), expect: 'delivered' as const });
      }
      return deliveries;
    },
    arm: (context) => {
      for (const destination of context.destinations.values()) {
        const { faults } = destination;
        if (faults.kind === 'tcp') {
          // Connections cannot be told apart by job: the first ones to carry a few MiB stall.
          faults.proxy.arm({ label: `${destination.type}: upload stuck`, times: shape.stuckPerDestination, match: faults.isUpload, fault: { kind: 'stall', direction: 'up', afterBytes: 4 * MiB } });
          continue;
        }
        faults.proxy.arm({
          label: `${destination.type}: upload stuck`,
          times: shape.stuckPerDestination,
          // The stuck jobs' files are the only ones of their size, and fit in one request everywhere
          // (a form adds its framing).
          match: (head) => faults.isUpload(head) && Number(head.headers['content-length']) >= stuckBytes && Number(head.headers['content-length']) < stuckBytes + 2 * KiB,
          fault: { kind: 'stall', direction: 'request', afterBytes: 1 * MiB },
        });
      }
    },
    during: async (context) => {
      const started = Date.now();
      while (!context.finished()) {
        for (const [name, fn] of context.runtime.pipeline.functions) {
          const sample = await fn.memory().catch(() => undefined);
          if (!sample) continue;
          const trace = memory.get(name) ?? { samples: [] };
          trace.samples.push([Math.round((Date.now() - started) / 100) / 10, sample.heapUsedBytes / MiB, sample.externalBytes / MiB]);
          memory.set(name, trace);
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    },
    measure: async (context: ScenarioContext, deliveries) => {
      const { callbacks } = context;
      const groups = {
        small: deliveries.filter((delivery) => delivery.name.startsWith('load-small-')),
        large: deliveries.filter((delivery) => delivery.name.startsWith('load-large-')),
        stuck: deliveries.filter((delivery) => stuckNames.has(delivery.name)),
      };
      const timing = Object.fromEntries(
        Object.entries(groups).map(([group, members]) => {
          const seconds = latencies(members, callbacks);
          const first = Math.min(...members.map((member) => member.submittedAt));
          const last = Math.max(...members.flatMap((member) => (callbacks.received.get(member.token) ?? []).slice(0, 1).map((callback) => callback.at)));
          return [
            group,
            {
              jobs: members.length,
              calledBack: seconds.length,
              wallSeconds: Math.round((last - first) / 100) / 10,
              latencySeconds: { p50: percentile(seconds, 0.5), p95: percentile(seconds, 0.95), max: percentile(seconds, 1) },
            },
          ];
        }),
      );
      return {
        shape,
        timing,
        // The destinations of this run only (`--destinations` may leave some out).
        configuredConcurrency: Object.fromEntries(Object.entries(loadConcurrency).filter(([type]) => context.destinations.has(type))),
        memory: Object.fromEntries([...memory].map(([name, trace]) => [name.replace(`${resourceNames.functionName('')}`, '') || name, { ...memorySummary(trace), trace: trace.samples }])),
      };
    },
  };
}
