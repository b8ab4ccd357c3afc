import { retryRequestSchema } from '../../shared/contract/job-queries.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import type { DestinationRecord } from '../../shared/jobs/records.ts';
import { withCorrelationId } from '../../shared/lambda/logger.ts';
import { enqueue } from './accept.ts';
import type { IngressDependencies } from './dependencies.ts';

export interface Skipped {
  readonly index: number;
  readonly state: string;
  readonly reason: string;
}

export type RetryAnswer =
  | { readonly kind: 'not_found' }
  | { readonly kind: 'retried'; readonly token: string; readonly retried: readonly number[]; readonly skipped: readonly Skipped[] };

function whySkipped(record: DestinationRecord | 'missing', index: number): Skipped {
  if (record === 'missing') return { index, state: 'none', reason: 'the job has no such destination' };
  if (record.state === 'failed') {
    return { index, state: 'failed', reason: `failed for good (${record.error?.code ?? 'unknown'}): fix the cause, then retry with "permanent": true` };
  }
  return { index, state: record.state, reason: `is ${record.state}, not failed` };
}

/**
 * Puts the failed destinations of a job back on their queues, each through a conditional write
 * (`failed` → `queued`), so two retries at once send it once, and the claim that every delivery
 * makes keeps a message that arrives twice from uploading twice. Destinations that failed after
 * every attempt are retried; those that failed for good only when the caller says `permanent`.
 * Asked through an inbox token that leads to an earlier job, it retries that job and answers with its token.
 */
export async function retryJob(asked: string, body: unknown, dependencies: IngressDependencies): Promise<RetryAnswer> {
  const request = parseOrThrow(retryRequestSchema, body);
  const job = await dependencies.jobs.get(asked);
  if (!job) return { kind: 'not_found' };
  const { token } = job;
  const indexes = request.destinations ?? job.destinations.filter((destination) => destination.state === 'failed').map((destination) => destination.index);
  const outcomes = await Promise.all(indexes.map(async (index) => ({ index, outcome: await dependencies.jobs.requeue(token, index, request.permanent ?? false) })));
  const retried = outcomes.filter(({ outcome }) => outcome === 'requeued').map(({ index }) => index);
  const skipped = outcomes.flatMap(({ index, outcome }) => (outcome === 'requeued' ? [] : [whySkipped(outcome, index)]));
  if (retried.length > 0) {
    const requeued = await dependencies.jobs.get(token);
    const destinations = (requeued?.destinations ?? []).filter((destination) => retried.includes(destination.index) && destination.state === 'queued');
    await enqueue({ ...job, destinations }, dependencies, false);
    withCorrelationId(dependencies.log, token).info('job retried', { token, retried, skipped: skipped.map((entry) => entry.index) });
  }
  return { kind: 'retried', token, retried, skipped };
}
