import type { UploadContext, Uploader } from '../destination/uploader.ts';
import type { DeliveryError } from '../errors.ts';
import type { DeliveredFile } from '../jobs/records.ts';
import type { SourceReader } from '../sources/delivery-source.ts';
import { classifyNetworkFailure } from './classify.ts';

/**
 * One upload attempt, and what it delivered: the uploader's answer, with the bytes and checksum
 * of the whole file as the service read them. A file the destination already had in full (an
 * earlier attempt's answer was lost) is read to its end here, so its checksum is recorded too.
 */
export async function runUpload<Destination, State>(
  uploader: Uploader<Destination, State>,
  context: UploadContext<Destination, State> & { readonly source: SourceReader },
): Promise<DeliveredFile> {
  const result = await uploader.upload(context);
  await context.source.readToEnd();
  const { value, bytes } = context.source.checksum!;
  return {
    url: result.url,
    bytes,
    checksum: { algorithm: 'crc32', value },
    ...(result.details ? { details: result.details } : {}),
    ...(result.notes ? { notes: result.notes } : {}),
  };
}

/**
 * Whatever a failed attempt threw, as a permanent or transient {@link DeliveryError}: failures
 * below every protocol (TLS, DNS, dropped connections) the same way for all destinations, the
 * rest as the destination's own classifier says.
 */
export function classifyFailure(uploader: Pick<Uploader<unknown, unknown>, 'classify'>, error: unknown): DeliveryError {
  return classifyNetworkFailure(error) ?? uploader.classify(error);
}
