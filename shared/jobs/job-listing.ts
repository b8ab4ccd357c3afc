import type { DocumentTable, Item } from './document-table.ts';
import { destinationItem, itemKey, jobFromItems, jobItem } from './job-store.ts';
import { listPartition } from './list-keys.ts';
import { jobState, type Job, type JobState } from './records.ts';
import { jobListIndex, jobTableKeys } from './table-keys.ts';

/** Which jobs to list, newest first. */
export interface ListQuery {
  /** Jobs created at or after this. */
  readonly since: Date;
  /** Only jobs in one of these states. @default every state */
  readonly states?: ReadonlySet<JobState>;
  /** At most this many jobs. */
  readonly limit: number;
  /** Where the previous page ended (its `cursor`). */
  readonly cursor?: string;
}

export interface ListPage {
  readonly jobs: readonly Job[];
  /** Pass it back for the next page; undefined when there is none. */
  readonly cursor: string | undefined;
}

/** Jobs one page may look at when a state filter skips most of them: the page then ends early, with a cursor. */
const examinedPerPage = 500;
/** BatchGetItem takes at most 100 keys. */
const keysPerBatch = 100;

/**
 * How far a cursor's time may be past the listing's clock: the position is a job's creation time,
 * written by another function instance, whose clock may run a little ahead.
 */
export const cursorClockSkewMilliseconds = 5 * 60_000;

/**
 * A cursor is where a page ended in the index: an opaque base64url of its sort key, a job's
 * creation time (as `toISOString` writes it) and token. Only a position this service could have
 * given is taken: a job created no later than `now`. A forged one far in the future would make
 * the listing walk every month back from it, query by query, until the function timed out.
 */
export function decodeCursor(cursor: string, now: Date): string | undefined {
  const position = Buffer.from(cursor, 'base64url').toString();
  // Base64url decoding skips what is not base64url: only the cursor's own spelling is taken.
  if (encodeCursor(position) !== cursor) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)#[A-Za-z0-9_-]{1,128}$/.exec(position);
  const time = match ? Date.parse(match[1]!) : Number.NaN;
  // A date that does not write back as given (2026-02-30) was never a job's creation time.
  if (Number.isNaN(time) || new Date(time).toISOString() !== match![1]) return undefined;
  return time > now.getTime() + cursorClockSkewMilliseconds ? undefined : position;
}

function encodeCursor(position: string): string {
  return Buffer.from(position).toString('base64url');
}

/** The months from `newest` back to `oldest` (`YYYY-MM`, both included). */
function monthsBetween(newest: string, oldest: string): string[] {
  const months: string[] = [];
  let [year, month] = newest.split('-').map(Number) as [number, number];
  for (let current = newest; current >= oldest; ) {
    months.push(current);
    month -= 1;
    if (month === 0) [year, month] = [year - 1, 12];
    current = `${year}-${String(month).padStart(2, '0')}`;
  }
  return months;
}

/**
 * Lists jobs newest first from the job table's listing index (`jobListIndex`): each month's shards
 * are read newest first and merged, then the jobs and their destinations are read from the table
 * (their state comes from their destinations). A state filter reads on until the page is full, or
 * until {@link examinedPerPage} jobs were looked at; the page then ends with a cursor.
 */
export class JobListing {
  public constructor(
    private readonly table: DocumentTable,
    private readonly now: () => Date = () => new Date(),
  ) {}

  public async list(query: ListQuery): Promise<ListPage> {
    const since = query.since.toISOString();
    const now = this.now();
    let before = query.cursor === undefined ? undefined : decodeCursor(query.cursor, now);
    if (query.cursor !== undefined && before === undefined) throw new RangeError('cursor is not one this service gave');
    // A page that ended before `since` (a relative one, such as 1h, moves on between pages): no
    // job is left in the window.
    if (before !== undefined && before < since) return { jobs: [], cursor: undefined };
    const jobs: Job[] = [];
    let examined = 0;
    for (const month of monthsBetween((before ?? now.toISOString()).slice(0, 7), since.slice(0, 7))) {
      for (;;) {
        const wanted = query.limit - jobs.length;
        const positions = await this.newest(month, since, before, query.states ? Math.min(100, Math.max(25, wanted * 2)) : wanted);
        if (positions.length === 0) break;
        const found = await this.jobsOf(positions.map((position) => position.token));
        for (const { token, position } of positions) {
          before = position;
          examined += 1;
          const job = found.get(token);
          if (job && (!query.states || query.states.has(jobState(job)))) jobs.push(job);
          if (jobs.length >= query.limit || examined >= examinedPerPage) return { jobs, cursor: encodeCursor(position) };
        }
      }
    }
    return { jobs, cursor: undefined };
  }

  /** The newest `count` jobs of `month` at or after `since` and before `before`, over every shard. */
  private async newest(month: string, since: string, before: string | undefined, count: number): Promise<{ token: string; position: string }[]> {
    const shards = await Promise.all(
      Array.from({ length: jobListIndex.shards }, async (_unused, shard) => {
        const { items } = await this.table.query({
          IndexName: jobListIndex.name,
          KeyConditionExpression: before === undefined ? '#partition = :partition AND #sort >= :since' : '#partition = :partition AND #sort BETWEEN :since AND :before',
          ExpressionAttributeNames: { '#partition': jobListIndex.partition, '#sort': jobListIndex.sort },
          ExpressionAttributeValues: { ':partition': listPartition(month, shard), ':since': since, ...(before === undefined ? {} : { ':before': before }) },
          ScanIndexForward: false,
          // One more than asked: BETWEEN takes `before` itself, which the last page showed.
          Limit: count + 1,
        });
        return items;
      }),
    );
    return shards
      .flat()
      .map((item) => ({ token: String(item[jobTableKeys.partition]), position: String(item[jobListIndex.sort]) }))
      .filter((entry) => entry.position !== before)
      .sort((a, b) => (a.position < b.position ? 1 : -1))
      .slice(0, count);
  }

  /** The jobs of `tokens` with their destinations, read in batches (job items first, for their destination counts). */
  private async jobsOf(tokens: readonly string[]): Promise<Map<string, Job>> {
    const jobItems = await this.batchGet(tokens.map((token) => itemKey(token, jobItem)));
    const destinationKeys = jobItems.flatMap((item) =>
      Array.from({ length: Number(item.destinationCount ?? 0) }, (_unused, index) => itemKey(String(item[jobTableKeys.partition]), destinationItem(index))),
    );
    const items = [...jobItems, ...(await this.batchGet(destinationKeys))];
    const byToken = new Map<string, Record<string, unknown>[]>();
    for (const item of items) {
      const token = String(item[jobTableKeys.partition]);
      byToken.set(token, [...(byToken.get(token) ?? []), item]);
    }
    const jobs = new Map<string, Job>();
    for (const [token, itemsOfJob] of byToken) {
      const job = jobFromItems(itemsOfJob);
      if (job) jobs.set(token, job);
    }
    return jobs;
  }

  private async batchGet(keys: readonly Item[]): Promise<Item[]> {
    const items: Item[] = [];
    for (let start = 0; start < keys.length; start += keysPerBatch) {
      let pending = keys.slice(start, start + keysPerBatch);
      for (let round = 0; pending.length > 0; round += 1) {
        if (round > 5) throw new Error('could not read the jobs: DynamoDB kept keys unprocessed');
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const answer = await this.table.batchGet(pending);
        items.push(...answer.items);
        pending = answer.unprocessed;
      }
    }
    return items;
  }
}
