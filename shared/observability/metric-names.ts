/**
 * The names of the service's CloudWatch metrics, in one place: the functions emit them (embedded
 * metric format, `shared/lambda/metrics.ts`) and the stack's dashboard and alarms read them, so the
 * two cannot drift apart.
 */
export const metricNamespace = 'UploadDestinations';

/** The `service` dimension every metric carries (Powertools' own). */
export const metricService = 'upload-destinations';

/** Dimension names. */
export const metricDimensions = {
  service: 'service',
  /** A destination type (`s3`, `youtube`, …): every delivery metric has it. */
  destination: 'destination',
  /** A failure's error code (`NoSuchBucket`), on the by-code failure counts. */
  code: 'code',
  /** The ingress door: `api`, `s3` or `inbox`. */
  door: 'door',
  /** What the door answered: the HTTP status for `api`, `accepted`/`rejected`/`failed` for the others. */
  answer: 'answer',
} as const;

/** One metric per name; units are CloudWatch's. */
export const deliveryMetricNames = {
  /** Messages a destination function received (every record of every batch). */
  messages: 'MessagesReceived',
  /** Deliveries that ended delivered. */
  succeeded: 'DeliveriesSucceeded',
  /** Deliveries that ended failed for good (also by `code`). */
  failed: 'DeliveriesFailed',
  /** Attempts that failed transiently and will be retried (also by `code`). */
  retried: 'AttemptsRetried',
  /** Deliveries put off until a provider's quota resets. */
  waiting: 'DeliveriesWaiting',
  /** Bytes of the delivered file. */
  bytes: 'BytesDelivered',
  /** How long the attempt that delivered took (claim → recorded). */
  duration: 'DeliveryDuration',
  /** Accepted by the ingress → delivered: what a caller waits. */
  timeToDelivered: 'TimeToDelivered',
  /** Attempts a finished delivery took. */
  attempts: 'DeliveryAttempts',
  /** Bytes sent in the delivering attempt per second of it. */
  throughput: 'Throughput',
  /** Destination tests run by the function. */
  probes: 'ProbesRun',
} as const;

export const ingressMetricNames = {
  /** Requests per door (and, by `answer`, what each was answered). */
  requests: 'Requests',
} as const;
