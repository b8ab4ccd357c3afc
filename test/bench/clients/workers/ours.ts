import { s3DestinationSchema } from '../../../../functions/destinations/s3/schema.ts';
import { s3Uploader } from '../../../../functions/destinations/s3/upload.ts';
import { runUpload } from '../../../../shared/delivery/attempt.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { SourceOpener } from '../../../../shared/sources/source-opener.ts';
import { patternSource } from './pattern-source.ts';
import { destinationFields, runWorker } from './worker-io.ts';

/** The project's S3 destination, called exactly as its function calls it (in the local runtime). */
const network = outboundNetwork({ allowPrivateNetworks: true });
const signal = new AbortController().signal;

/** The input read from a URL as the function reads a source: opened, and reopened for each part. */
async function urlSource(url: string): Promise<SourceReader> {
  const opener = new SourceOpener(() => Promise.reject(new Error('the bench reads no staging bucket')), network, { allowedSourceHosts: [] });
  return new SourceReader(await opener.open({ url }, undefined, signal), { reopen: (offset, bounds) => opener.open({ url }, undefined, signal, offset, bounds) });
}

await runWorker(async (task) => {
  const destination = s3DestinationSchema.parse(destinationFields(task));
  const source = task.sourceUrl ? await urlSource(task.sourceUrl) : patternSource(task.size, task.key.split('/').pop() ?? task.key);
  return runUpload(s3Uploader, {
    destination,
    source,
    signal,
    resume: { state: undefined, save: async () => undefined },
    credentials: { reference: undefined, read: async () => ({}), update: async () => undefined },
    application: undefined,
    network,
  });
});
