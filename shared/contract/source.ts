import * as z from 'zod/mini';
import { nonEmpty } from './fields.ts';

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
