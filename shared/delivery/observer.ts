/**
 * What one delivery attempt came to, told once per attempt (never per chunk) to whoever measures
 * the service: the destination function turns it into metrics.
 */
export type AttemptReport =
  | {
      readonly kind: 'succeeded';
      readonly type: string;
      /** The whole file. */
      readonly bytes: number;
      /** What this attempt sent (less than `bytes` when it continued an earlier one). */
      readonly bytesSent: number;
      readonly milliseconds: number;
      readonly attempts: number;
      /** When the ingress accepted the job, when the message says. */
      readonly acceptedAt: string | undefined;
    }
  | {
      readonly kind: 'failed';
      readonly type: string;
      readonly code: string;
      /** False when the delivery will be tried again. */
      readonly final: boolean;
      readonly attempts: number;
    }
  | { readonly kind: 'waiting'; readonly type: string; readonly code: string };

/** Receives every {@link AttemptReport}; it must not throw (a report never fails a delivery). */
export type DeliveryObserver = (report: AttemptReport) => void;
