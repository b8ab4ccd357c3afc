import { z } from 'zod';
import { sourceSchema } from './source.ts';

/**
 * The message the ingress puts on a destination's queue: one destination of one job. Secret fields
 * are never in it; they travel sealed (`sealed`) or are named by a `credentials` reference.
 */
export const deliveryMessageSchema = z.strictObject({
  version: z.literal(1),
  token: z.string().min(1),
  index: z.number().int().min(0),
  type: z.string().min(1),
  /** The destination's fields without its secret fields. */
  destination: z.record(z.string(), z.unknown()),
  sealed: z.string().optional(),
  source: sourceSchema,
  extension: z.string().optional(),
  /** The job has a callback_url: whoever finishes it last sends the callback. */
  notify: z.boolean().optional(),
  /** A delivery waiting for a quota to reset comes back no earlier than this (ISO 8601). */
  notBefore: z.iso.datetime().optional(),
});

export type DeliveryMessage = z.output<typeof deliveryMessageSchema>;

/** What a sealed blob is bound to: one destination of one job. */
export function sealingContext(token: string, index: number): string {
  return `${token}#${index}`;
}

/** What a sealed resume state is bound to: the same delivery, and nothing else sealed for it. */
export function resumeSealingContext(token: string, index: number): string {
  return `${sealingContext(token, index)}#resume`;
}
