import type { z } from 'zod';

/** The Lambda sizing of one destination's function; the stack reads it from the registry. */
export interface DestinationLambdaSettings {
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** How many of this destination's functions may run at once (protects provider quotas). */
  readonly maxConcurrency: number;
}

/**
 * What the rest of the service knows about a destination without loading its upload code: the
 * request schema of its `destination` object, which of its fields are secrets, and its sizing.
 * The upload code lives beside it in the same folder and is loaded only by its own function.
 */
export interface DestinationDefinition<Schema extends z.ZodType = z.ZodType> {
  /** The value of `destination.type`. */
  readonly type: string;
  /** A one-line description for the API documents. */
  readonly title: string;
  readonly schema: Schema;
  /**
   * Fields that hold secrets. They are sealed before a job touches a queue or the job store, may
   * instead come from a `credentials` reference, and are never logged.
   */
  readonly secretFields: readonly string[];
  /**
   * Addresses (hosts or URLs) the destination will connect to, so the ingress can refuse loopback
   * and private networks in the deployed stack.
   */
  readonly endpointsOf: (destination: z.output<Schema>) => readonly { field: string; address: string }[];
  readonly lambda: DestinationLambdaSettings;
}
