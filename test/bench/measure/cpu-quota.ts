import { existsSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A CPU quota for the processes started in it, as a Lambda function gets a share of a vCPU. */
export interface CpuQuota {
  /** vCPUs the processes in it may use together (0.5 = half of one core's time). */
  readonly share: number;
  /** The command line that runs `command` inside the quota (the shell joins the group, then execs). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  close(): Promise<void>;
}

const period = 100_000;
const v2Root = '/sys/fs/cgroup';
const v1Root = '/sys/fs/cgroup/cpu';

/**
 * Where this machine lets a process's CPU be capped: cgroup v2 (`cpu.max`) or the v1 cpu
 * controller (`cpu.cfs_quota_us`), both needing root. Undefined, with why, when neither serves.
 */
export function cpuQuotaSupport(): { readonly kind: 'v1' | 'v2' } | { readonly reason: string } {
  if (existsSync(join(v2Root, 'cgroup.controllers'))) return { kind: 'v2' };
  if (existsSync(join(v1Root, 'cpu.cfs_quota_us'))) return { kind: 'v1' };
  return { reason: 'no cgroup cpu controller at /sys/fs/cgroup (cgroup v2 cpu.max or v1 cpu.cfs_quota_us)' };
}

let groups = 0;

/** A cgroup capped at `share` vCPUs (CFS quota over a 100 ms period); close() removes it. */
export async function createCpuQuota(share: number): Promise<CpuQuota> {
  const support = cpuQuotaSupport();
  if ('reason' in support) throw new Error(support.reason);
  groups += 1;
  const quota = Math.max(1000, Math.round(share * period));
  const directory = join(support.kind === 'v2' ? v2Root : v1Root, `ud-bench-${process.pid}-${groups}`);
  await mkdir(directory);
  if (support.kind === 'v2') await writeFile(join(directory, 'cpu.max'), `${quota} ${period}`);
  else {
    await writeFile(join(directory, 'cpu.cfs_period_us'), String(period));
    await writeFile(join(directory, 'cpu.cfs_quota_us'), String(quota));
  }
  const procs = join(directory, 'cgroup.procs');
  return {
    share,
    wrap: (command, args) => ({ command: '/bin/sh', args: ['-c', 'echo $$ > "$0" && exec "$@"', procs, command, ...args] }),
    close: () => rmdir(directory).catch(() => undefined),
  };
}
