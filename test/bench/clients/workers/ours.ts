import { s3DestinationSchema } from '../../../../functions/destinations/s3/schema.ts';
import { s3Uploader } from '../../../../functions/destinations/s3/upload.ts';
import { runUpload } from '../../../../shared/delivery/attempt.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { patternSource } from './pattern-source.ts';
import { destinationFields, runWorker } from './worker-io.ts';

/** The project's S3 destination, called exactly as its function calls it (in the local runtime). */
const network = outboundNetwork({ allowPrivateNetworks: true });

await runWorker(async (task) => {
  const destination = s3DestinationSchema.parse(destinationFields(task));
  const source = patternSource(task.size, task.key.split('/').pop() ?? task.key);
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
