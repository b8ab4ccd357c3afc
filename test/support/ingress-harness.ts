import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import type { IngressDependencies } from '../../functions/ingress/dependencies.ts';
import { DocumentTable } from '../../shared/jobs/document-table.ts';
import { JobStore } from '../../shared/jobs/job-store.ts';
import { createLogger } from '../../shared/lambda/logger.ts';
import { Queues } from '../../shared/lambda/queues.ts';
import { AwsJsonClient, dynamodbService, sqsService } from '../../shared/net/aws-json-client.ts';
import { EnvelopeSealer, LocalKeyWrapper } from '../../shared/secrets/sealer.ts';
import { StagingObjects } from '../../shared/sources/staging-objects.ts';
import { startTestS3, type TestS3 } from './local-s3.ts';
import { startJobsAndQueues } from './servers/jobs-and-queues.ts';

export const harnessRegion = 'us-east-1';
export const harnessCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };
export const harnessStagingBucket = 'upload-destinations-staging';

/** The ingress's doors over real local servers: dynalite, fauxqs and a staging bucket in s3rver. */
export interface IngressHarness {
  readonly dependencies: IngressDependencies;
  readonly table: DocumentTable;
  readonly jobs: JobStore;
  readonly sqs: SQSClient;
  /** The one queue every destination type named in `queueTypes` sends to. */
  readonly queueUrl: string;
  readonly s3: TestS3;
  readonly dynamoEndpoint: string;
  close(): Promise<void>;
}

/**
 * Starts the servers and the ingress's dependencies as the deployed function builds them, private
 * networks refused, no staging prefix allowed and no credential host trusted beyond the
 * destinations' own; `settings` replaces any of them.
 */
export async function startIngressHarness(queueTypes: readonly string[], settings: Partial<IngressDependencies> = {}): Promise<IngressHarness> {
  const region = harnessRegion;
  const credentials = harnessCredentials;
  const closers: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const servers = await startJobsAndQueues('jobs', { region, credentials });
    closers.push(servers.close);
    const s3 = await startTestS3([harnessStagingBucket]);
    closers.push(() => s3.close());
    const sqs = new SQSClient({ region, endpoint: servers.sqsEndpoint, credentials });
    closers.push(async () => sqs.destroy());
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'upload-destinations-s3' }))).QueueUrl!;
    const table = new DocumentTable(new AwsJsonClient(dynamodbService, { region, endpoint: servers.dynamoEndpoint, credentials }), 'jobs');
    const jobs = new JobStore(table, 1);
    const dependencies = {
      jobs,
      queues: new Queues(new AwsJsonClient(sqsService, { region, endpoint: servers.sqsEndpoint, credentials })),
      queueUrls: Object.fromEntries(queueTypes.map((type) => [type, queueUrl])),
      sealer: new EnvelopeSealer(new LocalKeyWrapper(randomBytes(32))),
      allowPrivateNetworks: false,
      staging: new StagingObjects({ region, endpoint: s3.s3.endpoint, credentials: { accessKeyId: s3.s3.accessKeyId, secretAccessKey: s3.s3.secretAccessKey } }),
      stagingBucket: harnessStagingBucket,
      presignedUrlSeconds: 600,
      stagingSourcePrefixes: [],
      credentialHosts: [],
      log: createLogger('test'),
      ...settings,
    } as unknown as IngressDependencies;
    return { dependencies, table, jobs, sqs, queueUrl, s3, dynamoEndpoint: servers.dynamoEndpoint, close };
  } catch (error) {
    await close();
    throw error;
  }
}
