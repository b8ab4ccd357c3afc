import { z } from 'zod';
import { destinations, destinationTypes } from '../../functions/destinations/registry.ts';
import { alsoWithFieldErrors, httpUrl } from './fields.ts';
import { sourceSchema } from './source.ts';


/**
 * Where the file comes from: an HTTP(S) URL, or an object in a bucket (the staging bucket, or any
 * bucket the service may read).
 */
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
export type Destination = z.output<typeof destinationSchema>;
