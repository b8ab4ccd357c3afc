import * as z from 'zod/mini';
import { stagingSuffixes } from '../config.ts';
import type { DestinationDefinition } from '../destination/definition.ts';
import { alsoWithFieldErrors, filePath, headerValue, httpUrl, nonEmpty } from './fields.ts';

export const maxDestinationsPerJob = 10;

export const idempotencyKeySchema = z.string().check(z.regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible ASCII characters'));

const fileName = z.string().check(
  z.minLength(1),
  z.maxLength(255),
  // eslint-disable-next-line no-control-regex
  z.regex(/^[^/\\\u0000-\u001f\u007f]+$/, 'must be a file name without slashes or control characters'),
  z.refine((name) => name !== '.' && name !== '..', "must be a file name, not '.' or '..'"),
  z.refine((name) => name.isWellFormed(), 'must be valid Unicode (no unpaired surrogates)'),
);

/**
 * Where the file comes from: an HTTP(S) URL, an object in a bucket the service may read, or
 * `presigned`: the answer carries a URL to PUT the file to, and delivery starts when it lands.
 */
export const sourceSchema = z
  .strictObject({
    url: z.optional(httpUrl).check(z.describe('HTTPS URL of the file.')),
    bucket: z.optional(nonEmpty).check(z.describe('Bucket holding the file.')),
    key: z
      .optional(
        filePath(1024).check(
          z.refine((key) => !key.endsWith('/'), 'must name a file, not a folder'),
          z.refine((key) => !Object.values(stagingSuffixes).some((suffix) => key.endsWith(suffix)), 'must not name a manifest or a job note'),
        ),
      )
      .check(z.describe('Key of the file in the bucket.')),
    presigned: z
      .optional(
        z.strictObject({
          filename: fileName.check(z.describe('Name of the file to be uploaded.')),
          // The answer tells the caller to send it as a header of the upload: it must be one.
          content_type: z
            .optional(headerValue.check(z.maxLength(255)))
            .check(z.describe('Content-Type the upload will be sent with.')),
        }),
      )
      .check(z.describe('Answer with a presigned URL to PUT the file to; delivery starts when it lands.')),
  })
  .check(
    z.superRefine((source, context) => {
      const forms = [source.url !== undefined, source.bucket !== undefined || source.key !== undefined, source.presigned !== undefined];
      const given = forms.filter(Boolean).length;
      if (given > 1) {
        context.addIssue({ code: 'custom', path: ['url'], message: 'give one of url, bucket and key, or presigned' });
      } else if (given === 0) {
        context.addIssue({ code: 'custom', path: ['url'], message: 'is required (or bucket and key, or presigned)' });
      } else if (forms[1]) {
        for (const field of ['bucket', 'key'] as const) {
          if (source[field] === undefined) {
            context.addIssue({ code: 'custom', path: [field], message: 'is required with a bucket source' });
          }
        }
      }
    }, alsoWithFieldErrors),
    z.describe('The file to deliver: {"url"}, {"bucket","key"} or {"presigned"}.'),
  );

export type Source = z.output<typeof sourceSchema>;

/** One destination of a request, as the ingress sees it: its type and its fields. */
export interface Destination {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** The request of `POST /v1/uploads`, of an inbox message and of an S3 manifest, validated. */
export interface UploadRequest {
  readonly source: Source;
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

/** The body of `POST /v1/destinations/test`: a destination, exactly as a job would give it. */
export function createDestinationTestSchema(definitions: readonly DestinationDefinition[]) {
  return z
    .strictObject({ destination: createDestinationSchema(definitions) })
    .check(z.describe('Check a destination the way a delivery would, without delivering.'));
}
