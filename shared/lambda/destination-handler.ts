import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { ChangeMessageVisibilityCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { z } from 'zod';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { DestinationDefinition } from '../../functions/destinations/definition.ts';
import { readConfig } from '../config.ts';
import { deliveryMessageSchema } from '../contract/message.ts';
import { parseOrThrow } from '../contract/validate.ts';
import { deliver, type DeliveryDependencies } from '../delivery/runner.ts';
import type { Uploader } from '../delivery/types.ts';
import { JobStore } from '../jobs/job-store.ts';
import { outboundNetwork } from '../net/outbound-network.ts';
import { SourceOpener } from '../sources/source-opener.ts';
import { dynamoClient, sqsClient, stagingS3Client } from './aws-clients.ts';
import { createLogger } from './logger.ts';
import { callbackSigningKey, sealerFor, secretStoreFor } from './secrets.ts';

/** Time kept back from the function's timeout so an upload can abort and clean up. */
const cleanupMilliseconds = 15_000;

/** `arn:aws:sqs:region:account:name` → the queue's URL (asked once per queue). */
function queueUrlResolver(sqs: SQSClient): (arn: string) => Promise<string> {
  const urls = new Map<string, Promise<string>>();
  return (arn) => {
    let url = urls.get(arn);
    if (!url) {
      const [, , , , account, name] = arn.split(':');
      url = sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account })).then((answer) => answer.QueueUrl ?? '');
      url.catch(() => urls.delete(arn));
      urls.set(arn, url);
    }
    return url;
  };
}

export interface DestinationHandlerOptions {
  /** Dependencies to use instead of those built from the environment (tests; the local runtime sets the environment). */
  readonly dependencies?: DeliveryDependencies;
  readonly sqs?: SQSClient;
}

/**
 * The Lambda handler of a destination: an SQS batch, each record one delivery. Records whose
 * delivery must be retried are reported as batch item failures, after their visibility timeout is
 * set to the backoff delay, so the queue retries them later and dead-letters them after the last
 * attempt. Everything is built once per cold start.
 */
export function destinationHandler<Schema extends z.ZodType>(
  definition: DestinationDefinition<Schema>,
  uploader: Uploader<z.output<Schema>>,
  options: DestinationHandlerOptions = {},
) {
  const log = createLogger(`upload-destinations-${definition.type}`);
  let dependencies = options.dependencies;
  let sqs = options.sqs;
  if (!dependencies || !sqs) {
    const config = readConfig();
    const secrets = secretStoreFor(config);
    const network = outboundNetwork({ allowPrivateNetworks: config.allowPrivateNetworks });
    dependencies ??= {
      jobs: new JobStore(config.tableName, dynamoClient(config), config.retentionDays),
      sealer: sealerFor(config),
      secrets,
      sources: new SourceOpener(stagingS3Client(config), network, config),
      callbacks: { signingKey: callbackSigningKey(secrets) },
      network,
      maxAttempts: config.maxAttempts,
      retryBaseSeconds: config.retryBaseSeconds,
      leaseSeconds: definition.lambda.timeoutSeconds,
      log,
    };
    sqs ??= sqsClient(config);
  }
  const queueUrl = queueUrlResolver(sqs);
  const resolved = dependencies;

  async function handleRecord(record: SQSRecord, context: Context): Promise<void> {
    const message = parseOrThrow(deliveryMessageSchema, JSON.parse(record.body));
    const remaining = context.getRemainingTimeInMillis?.() ?? definition.lambda.timeoutSeconds * 1000;
    const signal = AbortSignal.timeout(Math.max(1000, remaining - cleanupMilliseconds));
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    const outcome = await deliver(message, receiveCount, definition, uploader, resolved, signal);
    if (outcome.kind === 'retry') {
      await sqs!
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: await queueUrl(record.eventSourceARN),
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: outcome.delaySeconds,
          }),
        )
        .catch((error: unknown) => log.warn('could not set the retry delay', { error: String(error) }));
      throw outcome.error;
    }
  }

  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    log.addContext(context);
    return processPartialResponse(event, (record: SQSRecord) => handleRecord(record, context), new BatchProcessor(EventType.SQS), {
      throwOnFullBatchFailure: false,
    });
  });
}
