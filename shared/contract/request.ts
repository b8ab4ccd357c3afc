import { z } from 'zod';
import { destinations, destinationTypes } from '../../functions/destinations/registry.ts';
import { alsoWithFieldErrors } from './fields.ts';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/**
 * Where the file comes from: an HTTP(S) URL, or an object in a bucket (the staging bucket, or any
 * bucket the service may read).
 */
const fileName = z
  .string()
  .min(1)
  .max(255)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^/\\\u0000-\u001f]+$/, 'must be a file name without slashes or control characters');

/**
 * Where the file comes from: an HTTP(S) URL, an object in a bucket the service may read, or
 * `presigned`: the answer carries a URL to PUT the file to, and delivery starts when it lands.
 */
export const sourceSchema = z
  .strictObject({
    url: httpUrl.optional().describe('HTTPS URL of the file.'),
    bucket: z.string().min(1).optional().describe('Bucket holding the file.'),
    key: z.string().min(1).optional().describe('Key of the file in the bucket.'),
    presigned: z
      .strictObject({
        filename: fileName.describe('Name of the file to be uploaded.'),
        content_type: z.string().min(1).max(255).optional().describe('Content-Type the upload will be sent with.'),
      })
      .optional()
      .describe('Answer with a presigned URL to PUT the file to; delivery starts when it lands.'),
  })
  .superRefine((source, context) => {
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
  }, alsoWithFieldErrors)
  .describe('The file to deliver: {"url"}, {"bucket","key"} or {"presigned"}.');

export const destinationSchema = z.discriminatedUnion(
  'type',
  destinations.map((definition) => definition.schema) as unknown as [
    (typeof destinations)[number]['schema'],
    ...(typeof destinations)[number]['schema'][],
  ],
  { error: () => `must be one of: ${destinationTypes.join(', ')}` },
);

export const maxDestinationsPerJob = 10;

export const uploadSchema = z
  .strictObject({
    extension: z
      .string()
      .regex(/^[A-Za-z0-9]{1,16}$/, 'must be a file extension without the dot, e.g. mp4')
      .optional()
      .describe('Extension of the file; names it when a destination filename is a folder and the source has none.'),
    async: z.boolean().default(true).describe('false: answer when delivered (bounded wait), with the URL.'),
    destination: destinationSchema.optional(),
    destinations: z.array(destinationSchema).min(1).max(maxDestinationsPerJob).optional(),
  })
  .superRefine((upload, context) => {
    if ((upload.destination === undefined) === (upload.destinations === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['destination'],
        message: 'give exactly one of destination or destinations',
      });
    }
  }, alsoWithFieldErrors);

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible ASCII characters');

/** The request of `POST /v1/uploads`, of an inbox message and of an S3 manifest. */
export const uploadRequestSchema = z
  .strictObject({
    source: sourceSchema,
    upload: uploadSchema,
    callback_url: httpUrl.optional().describe('Receives a signed POST when every destination has finished.'),
    idempotency_key: idempotencyKeySchema
      .optional()
      .describe('Repeating a request with the same key returns the same job and never uploads twice.'),
  })
  .describe('Deliver one file to one or more destinations.');

export type UploadRequestInput = z.input<typeof uploadRequestSchema>;
export type UploadRequest = z.output<typeof uploadRequestSchema>;
export type Source = z.output<typeof sourceSchema>;
export type Destination = z.output<typeof destinationSchema>;
