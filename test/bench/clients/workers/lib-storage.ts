import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { patternStream } from '../../input/pattern.ts';
import { runWorker } from './worker-io.ts';

/**
 * @aws-sdk/lib-storage as most Node code uses it: the client's defaults (which send a CRC32 with
 * every part) and Upload's defaults (5 MiB parts, 4 at a time), unless a tuning run overrides
 * `partSize` or `queueSize`.
 */
await runWorker(async (task) => {
  const client = new S3Client({
    endpoint: task.endpoint,
    region: task.region,
    forcePathStyle: true,
    credentials: { accessKeyId: task.accessKeyId, secretAccessKey: task.secretAccessKey },
  });
  const upload = new Upload({
    client,
    params: { Bucket: task.bucket, Key: task.key, Body: patternStream(task.size), ContentType: 'application/octet-stream' },
    ...(task.tuning?.partSize === undefined ? {} : { partSize: task.tuning.partSize }),
    ...(task.tuning?.queueSize === undefined ? {} : { queueSize: task.tuning.queueSize }),
  });
  const answer = await upload.done();
  client.destroy();
  return { etag: answer.ETag };
});
