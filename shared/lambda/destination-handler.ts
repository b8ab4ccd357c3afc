import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { readConfig } from '../config.ts';
import { deliveryMessageSchema, type DeliveryMessage } from '../contract/message.ts';
import { parseOrThrow } from '../contract/validate.ts';
import { deliver, type DeliveryDependencies, type DestinationModule } from '../delivery/runner.ts';
import { probeEventSchema, type ProbeAnswer, type ProbeEvent } from '../contract/probe.ts';
import { probeDestination } from '../delivery/probe.ts';
import { JobStore } from '../jobs/job-store.ts';
import { outboundNetwork } from '../net/outbound-network.ts';
import { SourceOpener } from '../sources/source-opener.ts';
import { StagingObjects } from '../sources/staging-objects.ts';
import { jobTable, serviceClientSettings, serviceQueues } from './aws-clients.ts';
import { createLogger, withCorrelationId } from './logger.ts';
import { createMetrics, deliveryMetrics } from './metrics.ts';
import type { Queues } from './queues.ts';
import { deliveryMetricNames, metricDimensions } from '../observability/metric-names.ts';
import { callbackSigningKey, sealerFor, secretStoreFor } from './secrets.ts';

/** Time kept back from the function's timeout so an upload can stop, save its resume state and clean up. */
const cleanupMilliseconds = 15_000;
/** SQS's longest message delay. */
const maxDelaySeconds = 900;

export interface DestinationHandlerOptions {
  /** Dependencies to use instead of those built from the environment (tests; the local runtime sets the environment). */
  readonly dependencies?: DeliveryDependencies;
  readonly queues?: Queues;
  /** Where metrics go. @default one for the destination type, written to standard output */
  readonly metrics?: Metrics;
}

/** A destination's function: it delivers the records of an SQS batch, and tests a destination when the ingress asks. */
export interface DestinationLambda {
  (event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
  (event: ProbeEvent, context: Context): Promise<ProbeAnswer>;
}

/**
 * The Lambda handler of a destination: an SQS batch, each record one delivery. Records whose
 * delivery must be retried are reported as batch item failures, after their visibility timeout is
 * set to the backoff delay, so the queue retries them later and dead-letters them after the last
 * attempt. A delivery that must wait longer than a queue can hold a message (a quota) is sent
 * again with a delay, as often as it takes. Invoked directly with a probe event (by the ingress,
 * for `POST /v1/destinations/test`) it tests the destination instead. Everything is built once per
 * cold start.
 *
 * @example
 * export const handler = destinationHandler({ definition: s3Destination, uploader: s3Uploader });
 */
export function destinationHandler<Schema extends z.ZodMiniObject, State>(module: DestinationModule<Schema, State>, options: DestinationHandlerOptions = {}): DestinationLambda {
  const { definition, uploader } = module;
  const log = createLogger(`upload-destinations-${definition.type}`);
  const metrics = options.metrics ?? createMetrics({ [metricDimensions.destination]: definition.type });
  let dependencies = options.dependencies;
  let queues = options.queues;
  if (!dependencies || !queues) {
    const config = readConfig();
    const secrets = secretStoreFor(config);
    const network = outboundNetwork({ allowPrivateNetworks: config.allowPrivateNetworks });
    dependencies ??= {
      jobs: new JobStore(jobTable(config), config.retentionDays),
      sealer: sealerFor(config),
      secrets,
      sources: new SourceOpener(new StagingObjects(serviceClientSettings(config, config.awsEndpoints.s3)).get, network, config),
      callbacks: { signingKey: callbackSigningKey(secrets) },
      network,
      credentialHosts: config.credentialHosts,
      maxSourceBytes: config.maxSourceBytes,
      maxDeliverySeconds: config.maxDeliverySeconds,
      maxAttempts: config.maxAttempts,
      retryBaseSeconds: config.retryBaseSeconds,
      leaseSeconds: definition.lambda.timeoutSeconds,
      log,
    };
    queues ??= serviceQueues(config);
  }
  const queue = queues;
  const resolved: DeliveryDependencies = { ...dependencies, observe: dependencies.observe ?? deliveryMetrics(metrics) };
  if (uploader.shutdown) process.once('SIGTERM', () => void uploader.shutdown?.());

  /** Puts the delivery back on its queue to come back at `until` (in hops of at most 15 minutes). */
  async function defer(record: SQSRecord, message: DeliveryMessage, until: Date): Promise<void> {
    const delaySeconds = Math.min(maxDelaySeconds, Math.max(0, Math.ceil((until.getTime() - Date.now()) / 1000)));
    const body: DeliveryMessage = { ...message, notBefore: until.toISOString() };
    await queue.send(await queue.urlOf(record.eventSourceARN), body, delaySeconds);
  }

  async function handleRecord(record: SQSRecord, context: Context): Promise<void> {
    metrics.addMetric(deliveryMetricNames.messages, MetricUnit.Count, 1);
    const message = parseOrThrow(deliveryMessageSchema, JSON.parse(record.body));
    // Every line logged for this record carries the job's token, as the ingress's and the callback's do.
    const recordDependencies = { ...resolved, log: withCorrelationId(resolved.log, message.token) };
    const remaining = context.getRemainingTimeInMillis?.() ?? definition.lambda.timeoutSeconds * 1000;
    const signal = AbortSignal.timeout(Math.max(1000, remaining - cleanupMilliseconds));
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    // The claim is held until this invocation must have ended (its timeout), so the next attempt
    // after a crash or a timeout takes over as soon as this one can no longer be running.
    const leaseSeconds = Math.max(1, Math.ceil(remaining / 1000));
    const outcome = await deliver(message, receiveCount, module, { ...recordDependencies, leaseSeconds }, signal);
    if (outcome.kind === 'defer') {
      await defer(record, message, outcome.until);
      return;
    }
    if (outcome.kind === 'retry') {
      // Sent before the failure goes back: should the send fail, a redrive still calls back.
      if (outcome.callbackAt) {
        await defer(record, { ...message, callbackOnly: true }, outcome.callbackAt).catch((error: unknown) => log.error('could not queue the callback to send again', { error: String(error) }));
      }
      await queue
        .hide(await queue.urlOf(record.eventSourceARN), record.receiptHandle, outcome.delaySeconds)
        .catch((error: unknown) => log.warn('could not set the retry delay', { error: String(error) }));
      throw outcome.error;
    }
  }

  return middy(async (event: SQSEvent | ProbeEvent, context: Context): Promise<SQSBatchResponse | ProbeAnswer> => {
    if ('probe' in event) {
      metrics.addMetric(deliveryMetricNames.probes, MetricUnit.Count, 1);
      return probeDestination(parseOrThrow(probeEventSchema, event), module, resolved);
    }
    return processPartialResponse(event, (record: SQSRecord) => handleRecord(record, context), new BatchProcessor(EventType.SQS), {
      throwOnFullBatchFailure: false,
    });
  })
    .use(injectLambdaContext(log, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true })) as unknown as DestinationLambda;
}
