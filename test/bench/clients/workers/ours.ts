import { s3DestinationSchema } from '../../../../functions/destinations/s3/schema.ts';
import { s3Uploader } from '../../../../functions/destinations/s3/upload.ts';
import { runUpload } from '../../../../shared/delivery/attempt.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { patternStream } from '../../input/pattern.ts';
import { destinationFields, runWorker } from './worker-io.ts';

/** The project's S3 destination, called exactly as its function calls it (in the local runtime). */
const network = outboundNetwork({ allowPrivateNetworks: true });

await runWorker(async (task) => {
  const destination = s3DestinationSchema.parse(destinationFields(task));
  const name = task.key.split('/').pop() ?? task.key;
  const body = { stream: patternStream(task.size), startsAt: 0, size: task.size, contentType: 'application/octet-stream', name, version: undefined };
  const source = new SourceReader(body, {
    reopen: () => Promise.reject(new Error('the bench source is read once')),
  });
  return runUpload(s3Uploader, {
    destination,
    source,
    signal: new AbortController().signal,
    resume: { state: undefined, save: async () => undefined },
    credentials: { reference: undefined, read: async () => ({}), update: async () => undefined },
    application: undefined,
    network,
  });
});
