import { s3DestinationSchema } from '../../../../functions/destinations/s3/schema.ts';
import { s3Uploader } from '../../../../functions/destinations/s3/upload.ts';
import { patternStream } from '../../input/pattern.ts';
import { runWorker } from './worker-io.ts';

/** The project's S3 destination, called exactly as its function calls it. */
await runWorker(async (task) => {
  const destination = s3DestinationSchema.parse({
    type: 's3',
    bucket: task.bucket,
    filename: task.key,
    endpoint: task.endpoint,
    region: task.region,
    aws_access_key_id: task.accessKeyId,
    aws_secret_access_key: task.secretAccessKey,
    // The sink and s3rver ignore ACLs; sending none keeps the request what a modern bucket gets.
    acl: 'bucket-default',
  });
  const name = task.key.split('/').pop() ?? task.key;
  return s3Uploader.upload({
    destination,
    source: { stream: patternStream(task.size), size: task.size, contentType: 'application/octet-stream', name },
    signal: new AbortController().signal,
  });
});
