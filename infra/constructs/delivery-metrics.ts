import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { deliveryMetricNames, metricDimensions, metricNamespace, metricService } from '../../shared/observability/metric-names.ts';

/** One of a destination type's delivery metrics, as its function emits it (`shared/lambda/metrics.ts`). */
export function deliveryMetric(
  name: keyof typeof deliveryMetricNames,
  destinationType: string,
  options: { readonly statistic?: string; readonly period?: Duration; readonly label?: string } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: metricNamespace,
    metricName: deliveryMetricNames[name],
    dimensionsMap: { [metricDimensions.service]: metricService, [metricDimensions.destination]: destinationType },
    statistic: options.statistic ?? 'Sum',
    period: options.period ?? Duration.minutes(5),
    ...(options.label ? { label: options.label } : {}),
  });
}
