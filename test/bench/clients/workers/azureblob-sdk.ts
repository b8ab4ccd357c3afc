import { BlockBlobClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { patternStream } from '../../input/pattern.ts';
import { azureTask } from './azureblob-task.ts';
import { runWorker } from './worker-io.ts';

/**
 * @azure/storage-blob as most Node code streams with it: `uploadStream` with its defaults (8 MiB
 * buffers, 5 at a time; no per-block checksum unless asked for).
 */
await runWorker(async (task) => {
  const { endpoint, account, accountKey, container, blob, size } = azureTask(task);
  const client = new BlockBlobClient(`${endpoint}/${container}/${blob}`, new StorageSharedKeyCredential(account, accountKey));
  const answer = await client.uploadStream(patternStream(size), undefined, undefined, { blobHTTPHeaders: { blobContentType: 'application/octet-stream' } });
  return { etag: answer.etag };
});
