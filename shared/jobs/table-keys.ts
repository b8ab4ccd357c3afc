/**
 * The job table's key attributes: a job's token (partition), `job` or `destination#NNN` (sort),
 * and the TTL attribute. The store writes them; the stack and the local runtime create the table
 * with them.
 */
export const jobTableKeys = { partition: 'token', sort: 'item', expiry: 'expiresAt' } as const;

/**
 * The index that lists jobs newest first (`GET /v1/uploads`). Only job items carry its keys, so
 * it holds nothing else (a sparse index), and only its keys (the job's own table key comes with
 * them): an update of a job never writes to it. Its partition is a month and a shard
 * (`jobs#2026-05#3`), so that no single partition takes every job's write (DynamoDB allows about
 * 1,000 writes a second per partition key); the sort key orders jobs by creation and is unique.
 */
export const jobListIndex = {
  name: 'jobs-by-time',
  partition: 'listPartition',
  sort: 'listSort',
  /** Partitions a month's jobs are spread over; a listing reads all of them. */
  shards: 4,
} as const;
