import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { readConfig } from '../../shared/config.ts';
import { JobStore } from '../../shared/jobs/job-store.ts';
import { dynamoClient, sqsClient, stagingS3Client } from '../../shared/lambda/aws-clients.ts';
import { createLogger } from '../../shared/lambda/logger.ts';
import { sealerFor } from '../../shared/lambda/secrets.ts';
import { handleHttp, type HttpApiDependencies } from './http-api.ts';

const log = createLogger('upload-destinations-ingress');
const config = readConfig();
const dependencies: HttpApiDependencies = {
  jobs: new JobStore(config.tableName, dynamoClient(config), config.retentionDays),
  sqs: sqsClient(config),
  queueUrls: config.queueUrls,
  sealer: sealerFor(config),
  allowPrivateNetworks: config.allowPrivateNetworks,
  s3: stagingS3Client(config),
  syncWaitSeconds: config.syncWaitSeconds,
  log,
};

/** The ingress: one function behind all three doors (the HTTP API, staging-bucket events, the inbox queue). */
export const handler = middy(async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
  log.addContext(context);
  return handleHttp(event, dependencies);
});
