import { createHash } from 'node:crypto';
import { jobListIndex } from './table-keys.ts';

/** The listing partition of a month (`2026-05`) and shard. */
export function listPartition(month: string, shard: number): string {
  return `jobs#${month}#${shard}`;
}

/** The listing index's keys of a job item: its month and shard (from its token), and its time and token. */
export function jobListKeys(token: string, createdAt: string): Record<string, string> {
  const shard = createHash('sha256').update(token).digest().readUInt32BE(0) % jobListIndex.shards;
  return { [jobListIndex.partition]: listPartition(createdAt.slice(0, 7), shard), [jobListIndex.sort]: `${createdAt}#${token}` };
}
