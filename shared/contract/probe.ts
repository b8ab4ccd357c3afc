import * as z from 'zod/mini';
import { count, nonEmpty } from './fields.ts';

/**
 * What the ingress hands a destination's function to test a destination: the destination as a
 * delivery message carries it (open fields, inline secrets sealed for this test's token), and how
 * long the test may take.
 */
export const probeEventSchema = z.strictObject({
  probe: z.strictObject({
    version: z.literal(1),
    /** A token of the test's own (`probe_…`): no job has it; the sealed secrets are bound to it. */
    token: z.string().check(z.regex(/^probe_[A-Za-z0-9_-]{8,64}$/)),
    type: nonEmpty,
    destination: z.record(z.string(), z.unknown()),
    sealed: z.optional(z.string()),
    timeoutMilliseconds: count(1000, 60_000),
  }),
});

export type ProbeEvent = z.output<typeof probeEventSchema>;

/** One check of a destination test. `skipped`: this check cannot be made for this destination. */
export const probeCheckSchema = z.strictObject({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  skipped: z.optional(z.boolean()),
});

export type ProbeCheckAnswer = z.output<typeof probeCheckSchema>;

/** What the destination's function answers a probe event with. */
export const probeAnswerSchema = z.strictObject({
  /** How permission to write was checked: `write` (a small object written and removed), `identity` (who am I), or not at all. */
  method: z.enum(['write', 'identity', 'none']),
  checks: z.array(probeCheckSchema),
});

export type ProbeAnswer = z.output<typeof probeAnswerSchema>;
