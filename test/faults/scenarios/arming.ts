import type { FaultDestination, HttpFaults, TcpFaults } from '../destinations/fault-destination.ts';
import type { HttpFault, RequestHead } from '../../support/fault-proxy/http-fault-proxy.ts';
import type { ScenarioContext } from './scenario.ts';

/** The length of a request's body, when it says; a guess of 1 MiB when it is chunked. */
export function bodyLength(head: RequestHead): number {
  const length = Number(head.headers['content-length']);
  return Number.isFinite(length) && length > 0 ? length : 1024 * 1024;
}

/** A point drawn within a request's body (never its very end, so something stays unsent). */
export function offsetWithin(head: RequestHead, random: () => number): number {
  return Math.floor(random() * Math.max(1, bodyLength(head) - 1));
}

/** The destinations of the run that speak HTTP (faults aimed per request), with their fault handles. */
export function httpDestinations(context: ScenarioContext): { destination: FaultDestination; faults: HttpFaults }[] {
  return [...context.destinations.values()].flatMap((destination) => (destination.faults.kind === 'http' ? [{ destination, faults: destination.faults }] : []));
}

/** The destinations reached over an opaque stream (SSH), faults aimed per connection. */
export function streamDestinations(context: ScenarioContext): { destination: FaultDestination; faults: TcpFaults }[] {
  return [...context.destinations.values()].flatMap((destination) => (destination.faults.kind === 'tcp' ? [{ destination, faults: destination.faults }] : []));
}

/** Faults several rules share: once `left` is spent, none of them fires. */
export interface SharedBudget {
  left: number;
}

/**
 * Arms `times` uses of `fault` on a destination's requests that `match`, each matching request
 * drawn with probability `chance`, so the faults spread over the scenario's deliveries; with a
 * `budget`, each use also spends one of it.
 */
export function armSpread(
  faults: HttpFaults,
  context: ScenarioContext,
  options: {
    readonly label: string;
    readonly times: number;
    readonly chance: number;
    readonly match: (head: RequestHead) => boolean;
    readonly fault: HttpFault | ((head: RequestHead) => HttpFault);
    readonly budget?: SharedBudget;
  },
): void {
  const { budget } = options;
  const drawn = (head: RequestHead): boolean => options.match(head) && (budget === undefined || budget.left > 0) && context.random() < options.chance;
  faults.proxy.arm({
    label: options.label,
    times: options.times,
    match: (head) => {
      if (!drawn(head)) return false;
      if (budget) budget.left -= 1;
      return true;
    },
    fault: options.fault,
  });
}

/** Requests for the run's source objects in the staging bucket (the function reading its source). */
export function isStagedSourceRead(head: RequestHead): boolean {
  return head.method === 'GET' && /^\/upload-destinations-staging\/faults\/\d+\.bin$/.test(head.path);
}

/** The size of the staged or served source a request reads, from its name. */
export function sourceSizeOf(head: RequestHead): number {
  return Number(/\/(\d+)\.bin$/.exec(head.path)?.[1] ?? 0);
}
