import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ingressMetricNames, metricDimensions, metricNamespace } from '../../shared/observability/metric-names.ts';
import { deliveryMetric } from './delivery-metrics.ts';

/** What the dashboard shows of one destination. */
export interface DashboardDestination {
  readonly destinationType: string;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly function: lambda.IFunction;
}

export interface OperationsDashboardProps {
  readonly destinations: readonly DashboardDestination[];
  readonly ingress: lambda.IFunction;
  readonly api: apigateway.RestApi;
  /** @default 'upload-destinations' */
  readonly dashboardName?: string;
}

const period = Duration.minutes(5);
const width = 6;

/**
 * One CloudWatch dashboard: the doors (requests by door and answer, API errors, the ingress's
 * errors and throttles), then a row per destination: deliveries and failures, bytes, latency
 * (accepted → delivered) at p50 and p99, queue depth and the age of its oldest message, the
 * dead-letter queue's depth, and its function's errors and throttles.
 */
export class OperationsDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  public constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'upload-destinations',
      defaultInterval: Duration.hours(3),
    });
    const requestsByAnswer = new cloudwatch.MathExpression({
      expression: `SEARCH('{${metricNamespace},${metricDimensions.service},${metricDimensions.door},${metricDimensions.answer}} MetricName="${ingressMetricNames.requests}"', 'Sum', 300)`,
      label: '',
      period,
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({ markdown: '## Doors', width: 24, height: 1 }),
      new cloudwatch.GraphWidget({ title: 'Requests by door and answer', left: [requestsByAnswer], width: 12 }),
      new cloudwatch.GraphWidget({
        title: 'API errors',
        left: [props.api.metricClientError({ period, statistic: 'Sum' }), props.api.metricServerError({ period, statistic: 'Sum' })],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ingress function',
        left: [props.ingress.metricErrors({ period }), props.ingress.metricThrottles({ period })],
        right: [props.ingress.metricDuration({ period, statistic: 'p99' })],
        width,
      }),
    );
    for (const destination of props.destinations) {
      const type = destination.destinationType;
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({ markdown: `## ${type}`, width: 24, height: 1 }),
        new cloudwatch.GraphWidget({
          title: `${type}: deliveries`,
          left: [deliveryMetric('succeeded', type, { label: 'delivered' }), deliveryMetric('failed', type, { label: 'failed for good' }), deliveryMetric('retried', type, { label: 'attempts retried' })],
          right: [deliveryMetric('bytes', type, { label: 'bytes' })],
          width,
        }),
        new cloudwatch.GraphWidget({
          title: `${type}: accepted → delivered`,
          left: [deliveryMetric('timeToDelivered', type, { statistic: 'p50', label: 'p50' }), deliveryMetric('timeToDelivered', type, { statistic: 'p99', label: 'p99' })],
          right: [deliveryMetric('throughput', type, { statistic: 'Average', label: 'bytes/s' })],
          width,
        }),
        new cloudwatch.GraphWidget({
          title: `${type}: queue`,
          left: [
            destination.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'waiting' }),
            destination.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'dead-lettered' }),
          ],
          right: [destination.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum', label: 'oldest (s)' })],
          width,
        }),
        new cloudwatch.GraphWidget({
          title: `${type}: function`,
          left: [destination.function.metricErrors({ period }), destination.function.metricThrottles({ period })],
          right: [destination.function.metric('ConcurrentExecutions', { period, statistic: 'Maximum' })],
          width,
        }),
      );
    }
  }
}
