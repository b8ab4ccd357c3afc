import { s3DestinationSchema } from '../../../../functions/destinations/s3/schema.ts';
import { s3Uploader } from '../../../../functions/destinations/s3/upload.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { patternStream } from '../../input/pattern.ts';
import { destinationFields, runWorker } from './worker-io.ts';

/** The project's S3 destination, called exactly as its function calls it (in the local runtime). */
const network = outboundNetwork({ allowPrivateNetworks: true });

await runWorker(async (task) => {
  const destination = s3DestinationSchema.parse(destinationFields(task));
  const name = task.key.split('/').pop() ?? task.key;
  return s3Uploader.upload({
    destination,
    source: { stream: patternStream(task.size), size: task.size, contentType: 'application/octet-stream', name },
    signal: new AbortController().signal,
    network,
  });
});
