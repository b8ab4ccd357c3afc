import { azureBlobDestinationSchema } from '../../../../functions/destinations/azureblob/schema.ts';
import { azureBlobUploader } from '../../../../functions/destinations/azureblob/upload.ts';
import { runUpload } from '../../../../shared/delivery/attempt.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { patternStream } from '../../input/pattern.ts';
import { azureTask } from './azureblob-task.ts';
import { runWorker } from './worker-io.ts';

/** The project's Azure Blob destination, called exactly as its function calls it (in the local runtime). */
const network = outboundNetwork({ allowPrivateNetworks: true });

await runWorker(async (task) => {
  const { endpoint, account, accountKey, container, blob, size } = azureTask(task);
  const destination = azureBlobDestinationSchema.parse({ type: 'azureblob', account, key: accountKey, container, filename: blob, endpoint });
  const body = { stream: patternStream(size), startsAt: 0, size, contentType: 'application/octet-stream', name: blob, version: undefined };
  const source = new SourceReader(body, { reopen: () => Promise.reject(new Error('the bench source is read once')) });
  return runUpload(azureBlobUploader, {
    destination,
    source,
    signal: new AbortController().signal,
    resume: { state: undefined, save: async () => undefined },
    credentials: { reference: undefined, read: async () => ({}), update: async () => undefined },
    application: undefined,
    network,
  });
});
