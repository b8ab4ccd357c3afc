import type { ServiceConfig } from '../config.ts';
import { DocumentTable } from '../jobs/document-table.ts';
import { AwsJsonClient, dynamodbService, sqsService } from '../net/aws-json-client.ts';
import { invokeFunction, type InvokeFunction } from './invoke-function.ts';
import { Queues } from './queues.ts';

/**
 * Settings of a client of the service's own AWS resources; locally `endpoint` is an embedded server.
 * These clients stay outside the network guard (`shared/net`): their endpoints come from the
 * stack's configuration, never from a caller, and VPC interface endpoints for them resolve to
 * private addresses that the guard would refuse.
 */
export function serviceClientSettings(config: ServiceConfig, endpoint?: string): { region: string; endpoint?: string } {
  return endpoint === undefined ? { region: config.region } : { region: config.region, endpoint };
}

/**
 * Tries of a request to the job table or the queues, throttling included (the SDK's default is 3):
 * a write lost to a burst of throttling costs a delivery an attempt, and a result recorded late is
 * better than an upload made again. With the jittered backoff they span at most about 25 s, which a
 * function's time allows (and the ingress's, under API Gateway's 29 s, just).
 */
export const serviceClientAttempts = 8;

/** The job table. */
export function jobTable(config: ServiceConfig): DocumentTable {
  const dynamodb = new AwsJsonClient(dynamodbService, { ...serviceClientSettings(config, config.awsEndpoints.dynamodb), maxAttempts: serviceClientAttempts });
  return new DocumentTable(dynamodb, config.tableName);
}

export function serviceQueues(config: ServiceConfig): Queues {
  return new Queues(new AwsJsonClient(sqsService, { ...serviceClientSettings(config, config.awsEndpoints.sqs), maxAttempts: serviceClientAttempts }));
}

/** How the ingress invokes the destination functions (to test a destination inside its own function). */
export function functionInvoker(config: ServiceConfig): InvokeFunction {
  return invokeFunction(serviceClientSettings(config, config.awsEndpoints.lambda));
}
