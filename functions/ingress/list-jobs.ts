import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ValidationError, type FieldError } from '../../shared/errors.ts';
import { decodeCursor, type JobListing, type ListQuery } from '../../shared/jobs/job-listing.ts';
import { jobView } from '../../shared/jobs/job-view.ts';
import { jobStates, type JobState } from '../../shared/jobs/records.ts';
import { listLimits } from '../../shared/contract/job-queries.ts';

const cursorRefusal = 'is not a cursor this service gave; start again without it';

const unitSeconds: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

export interface ListDependencies {
  readonly listing: JobListing;
  /** Jobs older than this are gone (the table's TTL): the default and the farthest `since`. */
  readonly retentionDays: number;
}

/** `since` as a time: an ISO 8601 date-time, or a duration back from now (`90s`, `30m`, `1h`, `7d`). */
function parseSince(text: string, now: number): Date | undefined {
  const relative = /^(\d+)([smhd])$/.exec(text);
  if (relative) {
    // A duration longer than dates reach makes no date, and the listing could not read it.
    const time = now - Number(relative[1]) * unitSeconds[relative[2]!]! * 1000;
    return Number.isNaN(new Date(time).getTime()) ? undefined : new Date(time);
  }
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(text)) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** The listing query of `GET /v1/uploads`, every offending parameter named at once. */
export function listQueryOf(parameters: Readonly<Record<string, string | undefined>>, retentionDays: number, now = Date.now()): ListQuery {
  const errors: FieldError[] = [];
  const oldest = new Date(now - retentionDays * 86_400_000);
  let since = oldest;
  if (parameters.since !== undefined) {
    const parsed = parseSince(parameters.since, now);
    if (parsed) since = parsed < oldest ? oldest : parsed;
    else errors.push({ path: 'since', message: 'must be an ISO 8601 date-time or a duration back from now such as 30m, 1h or 7d' });
  }
  let states: Set<JobState> | undefined;
  if (parameters.state !== undefined) {
    const asked = parameters.state.split(',').map((state) => state.trim());
    const unknown = asked.filter((state) => !jobStates.includes(state as JobState));
    if (unknown.length > 0) errors.push({ path: 'state', message: `must be one or more (comma-separated) of ${jobStates.join(', ')}; got ${unknown.join(', ')}` });
    else states = new Set(asked as JobState[]);
  }
  let limit: number = listLimits.default;
  if (parameters.limit !== undefined) {
    // Plain digits only: Number() also reads 0x10, ' 5', 1e1 and 5.0, which no caller means as a count.
    limit = /^\d{1,3}$/.test(parameters.limit) ? Number(parameters.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= listLimits.max)) errors.push({ path: 'limit', message: `must be a whole number from 1 to ${listLimits.max}, in decimal digits` });
  }
  if (parameters.cursor && !decodeCursor(parameters.cursor, new Date(now))) {
    errors.push({ path: 'cursor', message: cursorRefusal });
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return { since, limit, ...(states ? { states } : {}), ...(parameters.cursor ? { cursor: parameters.cursor } : {}) };
}

/**
 * `GET /v1/uploads?state=failed&since=1h&limit=20&cursor=…`: jobs newest first, as `GET
 * /v1/uploads/{token}` shows each, and the cursor of the next page (null on the last).
 */
export async function listJobs(event: APIGatewayProxyEvent, dependencies: ListDependencies): Promise<{ jobs: unknown[]; next_cursor: string | null }> {
  const query = listQueryOf(event.queryStringParameters ?? {}, dependencies.retentionDays);
  let page;
  try {
    page = await dependencies.listing.list(query);
  } catch (error) {
    if (error instanceof RangeError) throw new ValidationError([{ path: 'cursor', message: cursorRefusal }]);
    throw error;
  }
  return { jobs: page.jobs.map(jobView), next_cursor: page.cursor ?? null };
}
