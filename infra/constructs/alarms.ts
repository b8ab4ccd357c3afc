import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deliveryMetric } from './delivery-metrics.ts';

/** What the alarms watch of one destination. */
export interface WatchedDestination {
  readonly destinationType: string;
  readonly queue: sqs.IQueue;
}

export interface OperationsAlarmsProps {
  readonly destinations: readonly WatchedDestination[];
  readonly api: apigateway.RestApi;
  /**
   * Failed over finished deliveries of one destination in 5 minutes above which it alarms (0 to 1).
   * @default 0.1
   */
  readonly failureRatioThreshold?: number;
  /**
   * Finished deliveries of a destination in those 5 minutes below which the ratio means nothing (one
   * failure of one delivery is a caller's wrong credentials more often than an outage).
   * @default 5
   */
  readonly minimumDeliveries?: number;
  /**
   * Age of the oldest message of a destination's queue, in seconds, above which it alarms. Retries
   * wait up to 15 minutes each, so a retried message is older than its wait.
   * @default 1800
   */
  readonly oldestMessageAgeSeconds?: number;
  /**
   * 5xx answers of the API in 5 minutes above which it alarms.
   * @default 5
   */
  readonly ingressServerErrors?: number;
  /** @default - the alarms notify nobody; they show in the CloudWatch console */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The alarms beside each dead-letter queue's (`DeadLetterQueue`): per destination, a failure ratio
 * over its threshold and messages waiting too long; for the API, answers of 5xx. All in one place,
 * each with what to do in its description (the README's "Operating it" says more).
 */
export class OperationsAlarms extends Construct {
  /** Destination type → its failure-ratio alarm. */
  public readonly failureRatio: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Destination type → its oldest-message alarm. */
  public readonly oldestMessage: Readonly<Record<string, cloudwatch.Alarm>>;
  public readonly ingressServerErrors: cloudwatch.Alarm;

  public constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    const ratio = props.failureRatioThreshold ?? 0.1;
    if (!(ratio > 0 && ratio <= 1)) throw new Error(`OperationsAlarms: failureRatioThreshold must be above 0 and at most 1, got ${ratio}`);
    super(scope, id);
    const notify = (alarm: cloudwatch.Alarm): cloudwatch.Alarm => {
      if (props.alarmTopic) alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
      return alarm;
    };
    const minimum = props.minimumDeliveries ?? 5;
    const ageSeconds = props.oldestMessageAgeSeconds ?? 1800;
    const failureRatio: Record<string, cloudwatch.Alarm> = {};
    const oldestMessage: Record<string, cloudwatch.Alarm> = {};
    for (const { destinationType: type, queue } of props.destinations) {
      const expression = new cloudwatch.MathExpression({
        expression: `IF((succeeded + failed) >= ${minimum}, failed / (succeeded + failed), 0)`,
        usingMetrics: { succeeded: deliveryMetric('succeeded', type), failed: deliveryMetric('failed', type) },
        period: Duration.minutes(5),
        label: `${type} failure ratio`,
      });
      failureRatio[type] = notify(
        new cloudwatch.Alarm(this, `FailureRatio-${type}`, {
          alarmDescription: `More than ${ratio * 100} % of ${type} deliveries failed for good in 5 minutes. List them (upload-destinations list --state failed,partially_failed --since 1h), read their error codes, fix the cause (credentials, the destination), then retry them.`,
          metric: expression,
          threshold: ratio,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      oldestMessage[type] = notify(
        new cloudwatch.Alarm(this, `OldestMessage-${type}`, {
          alarmDescription: `A ${type} delivery has waited more than ${ageSeconds} s in its queue: the function is throttled, failing or capped (maxConcurrency), or the destination is slow. See the dashboard's concurrency, errors and throttles for ${type}.`,
          metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
          threshold: ageSeconds,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    this.failureRatio = failureRatio;
    this.oldestMessage = oldestMessage;
    const serverErrors = props.ingressServerErrors ?? 5;
    this.ingressServerErrors = notify(
      new cloudwatch.Alarm(this, 'IngressServerErrors', {
        alarmDescription: `The API answered 5xx more than ${serverErrors} times in 5 minutes: the ingress fails or is throttled (its reserved concurrency), or DynamoDB, SQS or KMS refuse it. Read the ingress's log (errors carry correlation_id).`,
        metric: props.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: serverErrors,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
