import { redactUrl } from '../net/redact.ts';
import { jobState, type Job } from './records.ts';

/**
 * The job as `GET /v1/uploads/{token}` and callbacks show it. `upload` is the first delivered URL,
 * like the seeds' answer; each destination says its state, URL, bytes, attempts and error.
 */
export function jobView(job: Job): Record<string, unknown> {
  const delivered = job.destinations.find((destination) => destination.state === 'succeeded');
  return {
    token: job.token,
    state: jobState(job),
    ...(job.rejected ? { errors: job.rejected.errors } : {}),
    upload: delivered?.url ?? '',
    created_at: job.createdAt,
    origin: job.origin,
    source: 'url' in job.source ? { url: redactUrl(job.source.url) } : job.source,
    destinations: job.destinations.map((destination) => ({
      index: destination.index,
      type: destination.type,
      state: destination.state,
      url: destination.url ?? null,
      bytes: destination.bytes ?? null,
      ...(destination.bytesSent === undefined || destination.state === 'succeeded' ? {} : { bytes_sent: destination.bytesSent }),
      ...(destination.waitUntil === undefined || destination.state !== 'waiting' ? {} : { wait_until: destination.waitUntil }),
      ...(destination.notes && destination.notes.length > 0 ? { notes: destination.notes } : {}),
      checksum: destination.checksum ?? null,
      attempts: destination.attempts,
      error: destination.error ? { code: destination.error.code, message: destination.error.message } : null,
      started_at: destination.startedAt ?? null,
      finished_at: destination.finishedAt ?? null,
      ...(destination.details && Object.keys(destination.details).length > 0 ? { details: destination.details } : {}),
    })),
    ...(job.callback ? { callback: job.callback } : {}),
  };
}
