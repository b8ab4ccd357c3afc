import { exitCodes, type CliContext } from '../context.ts';
import type { JobView } from '../job-view.ts';

export interface ListOptions {
  readonly state?: string;
  readonly since?: string;
  readonly limit?: string;
  readonly cursor?: string;
  /** Follow every page. */
  readonly all: boolean;
}

interface Page {
  readonly jobs: readonly JobView[];
  readonly next_cursor: string | null;
}

function row(job: JobView): string {
  const destinations = job.destinations.map((destination) => `${destination.type}:${destination.state}${destination.error ? `(${destination.error.code})` : ''}`).join(' ');
  return `${job.token.padEnd(28)} ${job.state.padEnd(16)} ${job.created_at}  ${destinations}`;
}

/**
 * `list [--state failed] [--since 1h] [--limit N] [--all]`: jobs newest first, one line each; the
 * next page's cursor is printed (`--cursor` takes it), or every page is read with `--all`.
 */
export async function list(options: ListOptions, context: CliContext): Promise<number> {
  const client = await context.client();
  const jobs: JobView[] = [];
  let cursor = options.cursor;
  for (;;) {
    const query = new URLSearchParams({
      ...(options.state ? { state: options.state } : {}),
      ...(options.since ? { since: options.since } : {}),
      ...(options.limit ? { limit: options.limit } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const { body: page } = await client.request<Page>('GET', `/v1/uploads${query.size > 0 ? `?${query}` : ''}`);
    jobs.push(...page.jobs);
    cursor = page.next_cursor ?? undefined;
    if (!options.all || cursor === undefined) break;
  }
  const lines = jobs.length === 0 ? ['no jobs'] : jobs.map(row);
  if (cursor !== undefined) lines.push(`more: --cursor ${cursor}`);
  context.result({ jobs, next_cursor: cursor ?? null }, lines.join('\n'));
  return exitCodes.ok;
}
