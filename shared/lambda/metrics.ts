import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AttemptReport, DeliveryObserver } from '../delivery/observer.ts';
import { deliveryMetricNames, ingressMetricNames, metricDimensions, metricNamespace, metricService } from '../observability/metric-names.ts';

/**
 * The function's metrics, in CloudWatch's embedded metric format: buffered during an invocation
 * and written to the log when the `logMetrics` middleware flushes them at its end.
 */
export function createMetrics(defaultDimensions: Readonly<Record<string, string>> = {}): Metrics {
  return new Metrics({ namespace: metricNamespace, serviceName: metricService, defaultDimensions: { ...defaultDimensions } });
}

/** One single-metric instance per function's metrics, kept: each is written and emptied at its `addMetric`. */
const singles = new WeakMap<Metrics, Metrics>();

function singleMetricOf(metrics: Metrics): Metrics {
  let single = singles.get(metrics);
  if (!single) {
    single = metrics.singleMetric();
    singles.set(metrics, single);
  }
  return single;
}

/**
 * Counts one `metric` under extra dimensions whose values vary within an invocation (an error
 * code, an answer): such a count is its own EMF record, written at once, since one record's
 * values share one set of dimensions.
 */
function countBy(metrics: Metrics, metric: string, dimensions: Readonly<Record<string, string>>): void {
  const single = singleMetricOf(metrics);
  for (const [name, value] of Object.entries(dimensions)) single.addDimension(name, value);
  single.addMetric(metric, MetricUnit.Count, 1);
}

/**
 * A destination function's {@link DeliveryObserver}: each attempt's outcome as metrics of the
 * function's destination type (its default dimension), failures also by error code.
 */
export function deliveryMetrics(metrics: Metrics, now: () => number = Date.now): DeliveryObserver {
  const names = deliveryMetricNames;
  return (report: AttemptReport) => {
    switch (report.kind) {
      case 'succeeded': {
        metrics.addMetric(names.succeeded, MetricUnit.Count, 1);
        metrics.addMetric(names.bytes, MetricUnit.Bytes, report.bytes);
        metrics.addMetric(names.duration, MetricUnit.Milliseconds, report.milliseconds);
        metrics.addMetric(names.attempts, MetricUnit.Count, report.attempts);
        if (report.milliseconds > 0) metrics.addMetric(names.throughput, MetricUnit.BytesPerSecond, Math.round((report.bytesSent * 1000) / report.milliseconds));
        const accepted = report.acceptedAt === undefined ? Number.NaN : Date.parse(report.acceptedAt);
        if (Number.isFinite(accepted)) metrics.addMetric(names.timeToDelivered, MetricUnit.Milliseconds, Math.max(0, now() - accepted));
        return;
      }
      case 'failed': {
        const metric = report.final ? names.failed : names.retried;
        metrics.addMetric(metric, MetricUnit.Count, 1);
        if (report.final) metrics.addMetric(names.attempts, MetricUnit.Count, report.attempts);
        countBy(metrics, metric, { [metricDimensions.code]: report.code });
        return;
      }
      case 'waiting':
        metrics.addMetric(names.waiting, MetricUnit.Count, 1);
        return;
    }
  };
}

/** The ingress's count of one request: in all (flushed with the invocation), and by door and answer. */
export function countRequest(metrics: Metrics, door: 'api' | 's3' | 'inbox', answer: string): void {
  metrics.addMetric(ingressMetricNames.requests, MetricUnit.Count, 1);
  countBy(metrics, ingressMetricNames.requests, { [metricDimensions.door]: door, [metricDimensions.answer]: answer });
}
