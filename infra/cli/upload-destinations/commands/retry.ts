import { ApiError } from '../api-client.ts';
import { UsageError } from '../connection.ts';
import { exitCodes, type CliContext } from '../context.ts';
import { describeJob } from '../job-view.ts';
import { watchJob } from '../watch.ts';
import { exitCodeOf } from './status.ts';

export interface RetryOptions {
  readonly index?: readonly string[];
  readonly permanent: boolean;
  readonly wait: boolean;
}

interface Retried {
  readonly token: string;
  readonly retried: readonly number[];
  readonly skipped: readonly { readonly index: number; readonly state: string; readonly reason: string }[];
}

/** A destination's index as `--index` gives it: digits only (`Number` would read '' as 0, and '0x1' as 1). */
function indexOf(text: string): number {
  if (!/^\d{1,2}$/.test(text)) throw new UsageError(`--index must be a destination's index (0-99), got '${text}'`);
  return Number(text);
}

/**
 * `retry <token> [--index N …] [--permanent] [--wait]`: puts the job's failed destinations (or the
 * ones named) back on their queues; those that failed for good only with `--permanent`.
 */
export async function retry(token: string, options: RetryOptions, context: CliContext): Promise<number> {
  const destinations = (options.index ?? []).map(indexOf);
  const client = await context.client();
  const body = {
    ...(destinations.length > 0 ? { destinations } : {}),
    ...(options.permanent ? { permanent: true } : {}),
  };
  let answer: Retried;
  try {
    answer = (await client.request<Retried>('POST', `/v1/uploads/${encodeURIComponent(token)}/retry`, body)).body;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 409)) throw error;
    const refused = error.body as unknown as Retried;
    context.result(refused, ['nothing retried', ...refused.skipped.map((skip) => `  #${skip.index} ${skip.reason}`)].join('\n'));
    return exitCodes.failed;
  }
  const lines = [`retried ${answer.retried.map((index) => `#${index}`).join(', ')}`, ...answer.skipped.map((skip) => `  skipped #${skip.index}: ${skip.reason}`)];
  if (!options.wait) {
    context.result(answer, lines.join('\n'));
    return exitCodes.ok;
  }
  context.note(lines.join('\n'));
  const job = await watchJob(client, token, context);
  context.result(job, describeJob(job));
  return exitCodeOf(job);
}
