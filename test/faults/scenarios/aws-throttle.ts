import type { HttpFault } from '../../support/fault-proxy/http-fault-proxy.ts';
import { deliveriesFor, KiB, MiB, type Scenario } from './scenario.ts';

/** An AWS JSON-protocol error, as DynamoDB and SQS send them. */
function awsJsonError(type: string, message: string): HttpFault {
  return { kind: 'answer', status: 400, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type.split('#')[1]! }, body: JSON.stringify({ __type: type, message }) };
}

const dynamoThrottles = [
  awsJsonError('com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.'),
  awsJsonError('com.amazon.coral.availability#ThrottlingException', 'Rate of requests exceeds the allowed throughput.'),
];
const sqsThrottle = awsJsonError('com.amazonaws.sqs#RequestThrottled', 'Request is throttled.');

/**
 * Throttling from the service's own AWS: a fifth of the functions' DynamoDB and SQS requests (the
 * ingress's included) answered as throttled, for the whole scenario. The SDKs retry these; what
 * gets past their retries must be retried by the service, never dropped or done twice.
 */
export const awsThrottleScenario: Scenario = {
  name: 'aws-throttle',
  description: 'throttling errors from SQS and DynamoDB (a fifth of the functions\u2019 requests)',
  plan: (types, scale) => deliveriesFor('aws-throttle', types, scale === 'full' ? [KiB, 64 * KiB, 1 * MiB + 7, 9 * MiB + 17] : [KiB, 1 * MiB + 7]),
  arm: (context) => {
    context.aws.dynamodb.arm({
      label: 'DynamoDB: throttled',
      times: 10_000,
      match: () => context.random() < 0.2,
      fault: () => dynamoThrottles[Math.floor(context.random() * dynamoThrottles.length)]!,
    });
    context.aws.sqs.arm({ label: 'SQS: throttled', times: 10_000, match: () => context.random() < 0.2, fault: sqsThrottle });
  },
};
