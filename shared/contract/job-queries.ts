import * as z from 'zod/mini';
import { count } from './fields.ts';

/** How many jobs one page of `GET /v1/uploads` holds. */
export const listLimits = { default: 20, max: 100 } as const;

/** The body of `POST /v1/uploads/{token}/retry` (all optional). */
export const retryRequestSchema = z.strictObject({
  /** Which destinations, by index. @default every failed one */
  destinations: z.optional(z.array(count(0, 99)).check(z.minLength(1), z.maxLength(100))),
  /**
   * Also destinations that failed for good (bad credentials, a missing bucket): only once their
   * cause is fixed, or they fail the same way again.
   */
  permanent: z.optional(z.boolean()),
});
