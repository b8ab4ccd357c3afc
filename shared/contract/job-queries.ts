import * as z from 'zod';

/** How many jobs one page of `GET /v1/uploads` holds. */
export const listLimits = { default: 20, max: 100 } as const;

/** The body of `POST /v1/uploads/{token}/retry` (all optional). */
export const retryRequestSchema = z.strictObject({
  /** Which destinations, by index. @default every failed one */
  destinations: z.array(z.number().int().min(0).max(99)).min(1).max(100).optional(),
  /**
   * Also destinations that failed for good (bad credentials, a missing bucket): only once their
   * cause is fixed, or they fail the same way again.
   */
  permanent: z.boolean().optional(),
});
