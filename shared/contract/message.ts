import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { DestinationDefinition } from '../destination/definition.ts';
import { count, nonEmpty } from './fields.ts';
import { storedSourceSchema } from './source.ts';

/**
 * The message the ingress puts on a destination's queue: one destination of one job. Secret fields
 * are never in it; they travel sealed (`sealed`) or are named by a `credentials` reference.
 */
export const deliveryMessageSchema = z.strictObject({
  version: z.literal(1),
  token: nonEmpty,
  index: count(0),
  type: nonEmpty,
  /** The destination's fields without its secret fields. */
  destination: z.record(z.string(), z.unknown()),
  sealed: z.optional(z.string()),
  source: storedSourceSchema,
  extension: z.optional(z.string()),
  /** The job has a callback_url: whoever finishes it last sends the callback. */
  notify: z.optional(z.boolean()),
  /**
   * How many destinations the job has. A job of one is finished when its delivery is: the callback
   * is then sent from what finishing it recorded, without reading the job back.
   */
  destinations: z.optional(count(1)),
  /** When the ingress accepted the job (ISO 8601), to measure the time to delivered. */
  acceptedAt: z.optional(z.iso.datetime()),
  /** A delivery waiting for a quota to reset comes back no earlier than this (ISO 8601). */
  notBefore: z.optional(z.iso.datetime()),
  /**
   * Only the job's callback is left to send: the delivery's last attempt failed for now and went
   * to the dead-letter queue, where a redrive (not this message) may try it again.
   */
  callbackOnly: z.optional(z.literal(true)),
});

export type DeliveryMessage = z.output<typeof deliveryMessageSchema>;

/** The delivery a sealed blob belongs to: where it goes, not only which job and destination. */
export interface SealedFor {
  readonly token: string;
  readonly index: number;
  /** The destination's type. */
  readonly type: string;
  /** The addresses the destination connects to (its definition's `endpointsOf`). */
  readonly endpoints: readonly string[];
}

/**
 * What a sealed blob is bound to: one destination of one job, of this type, going to these
 * endpoints. A blob moved to another delivery, or a message whose endpoint was changed to send the
 * secrets elsewhere, no longer opens.
 */
export function sealingContext({ token, index, type, endpoints }: SealedFor): string {
  const where = createHash('sha256').update(JSON.stringify(endpoints)).digest('base64url').slice(0, 22);
  return `${token}#${index}#${type}#${where}`;
}

/** The {@link SealedFor} of destination `index` of job `token`, from its definition and its (open) fields. */
export function sealedFor<Schema extends z.ZodMiniObject>(
  token: string,
  index: number,
  definition: Pick<DestinationDefinition<Schema>, 'type' | 'endpointsOf'>,
  destination: Readonly<Record<string, unknown>>,
): SealedFor {
  // The open fields are enough: no destination names its endpoint in a secret field.
  const endpoints = definition.endpointsOf(destination as z.output<Schema>);
  return { token, index, type: definition.type, endpoints: endpoints.map((endpoint) => endpoint.address) };
}

/** What a job's sealed source URL is bound to: that job. */
export function sourceSealingContext(token: string): string {
  return `${token}#source`;
}

/** What a job's sealed callback URL is bound to: that job. */
export function callbackSealingContext(token: string): string {
  return `${token}#callback`;
}

/** What a sealed resume state is bound to: the same delivery, and nothing else sealed for it. */
export function resumeSealingContext(delivery: SealedFor): string {
  return `${sealingContext(delivery)}#resume`;
}
