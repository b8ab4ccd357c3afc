import * as z from 'zod/mini';
import { count } from './fields.ts';

/** How many jobs one page of `GET /v1/uploads` holds. */
export const listLimits = { default: 20, max: 100 } as const;

/** The body of `POST /v1/uploads/{token}/retry` (all optional). */
export const retryRequestSchema = z.strictObject({
  /**
   * Which destinations, by index, each once: a destination requeued and not yet claimed may be
   * requeued again, so an index named twice was answered as retried twice. @default every failed one
   */
  destinations: z.optional(
    z.array(count(0, 99)).check(
      z.minLength(1),
      z.maxLength(100),
      z.refine((indexes) => new Set(indexes).size === indexes.length, 'must name each destination once'),
    ),
  ),
  /**
   * Also destinations that failed for good (bad credentials, a missing bucket): only once their
   * cause is fixed, or they fail the same way again.
   */
  permanent: z.optional(z.boolean()),
});
