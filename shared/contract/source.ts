import * as z from 'zod/mini';
import { stagingSuffixes } from '../config.ts';
import { alsoWithFieldErrors, filePath, httpUrl, nonEmpty } from './fields.ts';

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
    bucket: z.optional(z.string().check(z.minLength(1))).check(z.describe('Bucket holding the file.')),
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
          content_type: z
            .optional(z.string().check(z.minLength(1), z.maxLength(255)))
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

/**
 * A job's source as it is stored and queued: an object of the staging bucket, or a URL kept sealed
 * (it may carry a presigned signature or a token in its query) beside its redacted form for show.
 */
export const storedSourceSchema = z.union([
  z.strictObject({ bucket: nonEmpty, key: nonEmpty }),
  z.strictObject({ url: nonEmpty, sealedUrl: nonEmpty }),
]);

export type StoredSource = z.output<typeof storedSourceSchema>;

/** A job's source, unless the job was rejected (and has none). */
export function isStoredSource(source: StoredSource | Record<string, never>): source is StoredSource {
  return 'key' in source || 'url' in source;
}

/** A source the functions can open: a URL in clear, or an object. */
export type OpenableSource = { readonly url: string } | { readonly bucket: string; readonly key: string };
