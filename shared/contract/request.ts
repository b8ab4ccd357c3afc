import * as z from 'zod/mini';
import type { DestinationDefinition } from '../destination/definition.ts';
import { alsoWithFieldErrors, httpUrl } from './fields.ts';
import { sourceSchema } from './source.ts';

export const maxDestinationsPerJob = 10;

export const idempotencyKeySchema = z.string().check(z.regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible ASCII characters'));

/** One destination of a request, as the ingress sees it: its type and its fields. */
export interface Destination {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** The request of `POST /v1/uploads`, of an inbox message and of an S3 manifest, validated. */
export interface UploadRequest {
  readonly source: z.output<typeof sourceSchema>;
  readonly upload: {
    readonly extension?: string;
    readonly async: boolean;
    readonly destination?: Destination;
    readonly destinations?: readonly Destination[];
  };
  readonly callback_url?: string;
  readonly idempotency_key?: string;
}

/** One `destination` object of a request: its `type` chooses the destination's own schema. */
export function createDestinationSchema(definitions: readonly DestinationDefinition[]) {
  const types = definitions.map((definition) => definition.type);
  return z.discriminatedUnion('type', definitions.map((definition) => definition.schema) as unknown as [z.ZodMiniObject, ...z.ZodMiniObject[]], {
    error: () => `must be one of: ${types.join(', ')}`,
  });
}

/**
 * The request schema for a set of destinations: `destination.type` chooses the destination's own
 * schema. Called where the registry lists the destinations, so this file knows none of them; the
 * validation, the API Gateway model and the OpenAPI document all come from what it returns.
 */
export function createUploadRequestSchema(definitions: readonly DestinationDefinition[]): z.ZodMiniType<UploadRequest> {
  const destination = createDestinationSchema(definitions);
  const upload = z.strictObject({
    extension: z
      .optional(z.string().check(z.regex(/^[A-Za-z0-9]{1,16}$/, 'must be a file extension without the dot, e.g. mp4')))
      .check(z.describe('Extension of the file; names it when a destination filename is a folder and the source has none.')),
    async: z._default(z.boolean(), true).check(z.describe('false: answer when delivered (bounded wait), with the URL.')),
    destination: z.optional(destination),
    destinations: z.optional(z.array(destination).check(z.minLength(1), z.maxLength(maxDestinationsPerJob))),
  }).check(
    z.superRefine((value, context) => {
      if ((value.destination === undefined) === (value.destinations === undefined)) {
        context.addIssue({ code: 'custom', path: ['destination'], message: 'give exactly one of destination or destinations' });
      }
    }, alsoWithFieldErrors),
  );
  return z
    .strictObject({
      source: sourceSchema,
      upload,
      callback_url: z.optional(httpUrl).check(z.describe('Receives a signed POST when every destination has finished.')),
      idempotency_key: z
        .optional(idempotencyKeySchema)
        .check(z.describe('Repeating a request with the same key returns the same job and never uploads twice.')),
    })
    .check(z.describe('Deliver one file to one or more destinations.')) as unknown as z.ZodMiniType<UploadRequest>;
}
