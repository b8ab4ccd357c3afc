import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, S3Event, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLogger } from '../../shared/lambda/logger.ts';
import { ingressDependencies } from './dependencies.ts';
import { handleHttp } from './http-api.ts';
import { handleInboxMessage } from './inbox-door.ts';
import { decodeEventKey, handleObjectCreated } from './s3-door.ts';

const log = createLogger('upload-destinations-ingress');
const dependencies = ingressDependencies(log);

type IngressEvent = APIGatewayProxyEvent | S3Event | SQSEvent;

async function objectsCreated(event: S3Event): Promise<void> {
  for (const record of event.Records) {
    if (!record.eventName.startsWith('ObjectCreated:')) continue;
    await handleObjectCreated({ bucket: record.s3.bucket.name, key: decodeEventKey(record.s3.object.key) }, dependencies);
  }
}

/**
 * The ingress: one function behind all three doors. API Gateway proxy events are the HTTP API;
 * S3 notifications are the staging bucket; SQS records are the inbox.
 */
export const handler = middy(async (event: IngressEvent, context: Context): Promise<APIGatewayProxyResult | SQSBatchResponse | void> => {
  log.addContext(context);
  if ('httpMethod' in event) return handleHttp(event, dependencies);
  if (event.Records[0]?.eventSource === 'aws:s3') return objectsCreated(event as S3Event);
  return processPartialResponse(event as SQSEvent, (record: SQSRecord) => handleInboxMessage(record, dependencies), new BatchProcessor(EventType.SQS), {
    throwOnFullBatchFailure: false,
  });
});
