import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, S3Event, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLogger } from '../../shared/lambda/logger.ts';
import { countRequest, createMetrics } from '../../shared/lambda/metrics.ts';
import { ingressDependencies } from './dependencies.ts';
import { handleHttp } from './http-api.ts';
import { handleInboxMessage } from './inbox-door.ts';
import { decodeEventKey, handleObjectCreated } from './s3-door.ts';

const log = createLogger('upload-destinations-ingress');
const metrics = createMetrics();
const dependencies = ingressDependencies(log);

type IngressEvent = APIGatewayProxyEvent | S3Event | SQSEvent;

/** Runs one request of `door`, counting it by what it came to (a throw counts as `failed`). */
async function counted<Result>(door: 'api' | 's3' | 'inbox', handle: () => Promise<Result>, answerOf: (result: Result) => string): Promise<Result> {
  try {
    const result = await handle();
    countRequest(metrics, door, answerOf(result));
    return result;
  } catch (error) {
    countRequest(metrics, door, 'failed');
    throw error;
  }
}

async function objectsCreated(event: S3Event): Promise<void> {
  for (const record of event.Records) {
    if (!record.eventName.startsWith('ObjectCreated:')) continue;
    const object = { bucket: record.s3.bucket.name, key: decodeEventKey(record.s3.object.key) };
    await counted('s3', () => handleObjectCreated(object, dependencies), () => 'handled');
  }
}

/**
 * The ingress: one function behind all three doors. API Gateway proxy events are the HTTP API;
 * S3 notifications are the staging bucket; SQS records are the inbox. Every request is counted
 * by door and answer (metrics flushed when the invocation ends).
 */
export const handler = middy(async (event: IngressEvent): Promise<APIGatewayProxyResult | SQSBatchResponse | void> => {
  if ('httpMethod' in event) return counted('api', () => handleHttp(event, dependencies), (result) => String(result.statusCode));
  if (event.Records[0]?.eventSource === 'aws:s3') return objectsCreated(event as S3Event);
  const inbox = (record: SQSRecord) => counted('inbox', () => handleInboxMessage(record, dependencies), (answer) => answer);
  return processPartialResponse(event as SQSEvent, inbox, new BatchProcessor(EventType.SQS), { throwOnFullBatchFailure: false });
})
  .use(injectLambdaContext(log, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
