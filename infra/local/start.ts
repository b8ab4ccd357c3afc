import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { resourceNames } from '../resources.ts';
import { localCredentialsSecret, startLocalPipeline } from './pipeline.ts';

/** `npm start`: the whole pipeline on this machine, no AWS account, no Docker. */
function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new Error(`${name} must be a port number, got '${process.env[name]}'`);
  return value;
}

const pipeline = await startLocalPipeline({
  stateDirectory: process.env.UD_STATE_DIR ?? '.local',
  ports: { api: port('PORT', 3000), s3: port('S3_PORT', 4569), sqs: port('SQS_PORT', 9324), dynamodb: port('DYNAMODB_PORT', 4567) },
  onError: (error) => console.error('local pipeline:', error),
});

const sampleKey = 'samples/welcome.txt';
const s3 = new S3Client({
  region: 'us-east-1',
  endpoint: pipeline.s3.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey },
});
await s3.send(
  new PutObjectCommand({
    Bucket: resourceNames.stagingBucket,
    Key: sampleKey,
    Body: `Hello from Upload Destinations, ${new Date().toISOString()}\n`,
    ContentType: 'text/plain',
  }),
);
s3.destroy();

const request = {
  source: { bucket: resourceNames.stagingBucket, key: sampleKey },
  upload: {
    async: false,
    destination: {
      type: 's3',
      bucket: pipeline.deliveryBucket,
      filename: 'renders/welcome.txt',
      contenttype: 'text/plain',
      endpoint: pipeline.s3.endpoint,
      credentials: localCredentialsSecret,
    },
  },
};

console.log(`
Upload Destinations is running locally.

  API                 ${pipeline.apiUrl}          (POST /v1/uploads, GET /v1/uploads/{token})
  S3 (s3rver)         ${pipeline.s3.endpoint}     staging bucket: ${resourceNames.stagingBucket}, delivery bucket: ${pipeline.deliveryBucket}
                                             access key ${pipeline.s3.accessKeyId} / secret ${pipeline.s3.secretAccessKey}
  SQS (fauxqs)        ${pipeline.sqsEndpoint}     inbox queue: ${pipeline.inboxQueueUrl}
  DynamoDB (dynalite) ${pipeline.dynamodbEndpoint}
  Secrets (file)      ${pipeline.secretsFile}

Deliver the sample file into the embedded S3:

curl -s -X POST ${pipeline.apiUrl}/v1/uploads -H 'content-type: application/json' -d '${JSON.stringify(request)}'

Then read it back:

curl -s ${pipeline.s3.endpoint}/${pipeline.deliveryBucket}/renders/welcome.txt

Press Ctrl+C to stop.
`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void pipeline.close().then(() => process.exit(0));
  });
}
