import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** What one client process cost, as the kernel accounted it (threads and children included). */
export interface ProcessCost {
  readonly wallSeconds: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  readonly maxRssKiB: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class ChildFailed extends Error {}

const timeFormat = '%e %U %S %M';

/**
 * Runs a command under GNU time, which reports the child's user and system CPU and peak RSS from
 * wait4(): exact per process, unlike sampling /proc, and the same for Node, Python and Go clients.
 */
export async function runMeasured(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; scratch: string; timeoutMs?: number },
): Promise<ProcessCost> {
  const timeFile = join(options.scratch, `time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const child = spawn('/usr/bin/time', ['-f', timeFormat, '-o', timeFile, command, ...args], {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout = (stdout + text).slice(-65_536)));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-65_536)));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).finally(() => clearTimeout(timer));
  const timing = await readFile(timeFile, 'utf8').catch(() => '');
  await rm(timeFile, { force: true });
  if (code !== 0) {
    throw new ChildFailed(`${command} exited with ${code}: ${(stderr || stdout).trim().split('\n').slice(-6).join(' | ')}`);
  }
  // On failure GNU time prefixes a status line; the figures are always the last line.
  const figures = timing.trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  const [wallSeconds, userSeconds, systemSeconds, maxRssKiB] = figures;
  if (figures.length !== 4 || figures.some((value) => !Number.isFinite(value))) {
    throw new ChildFailed(`could not read GNU time's output: '${timing.trim()}'`);
  }
  return { wallSeconds: wallSeconds!, userSeconds: userSeconds!, systemSeconds: systemSeconds!, maxRssKiB: maxRssKiB!, stdout, stderr };
}
