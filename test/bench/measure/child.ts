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

/**
 * Starts the command and waits for it with wait4(), then writes its wall time, user and system CPU
 * (seconds, to the microsecond) and peak RSS (KiB) to the file named first. GNU time reads the same
 * wait4() figures but prints CPU in 10 ms steps: at 1 MiB one step is 10 CPU-s/GiB, more than the
 * differences between clients there. The exit status is the command's (a signal's as 128 + its
 * number), and a command that cannot be started exits 127, as a shell's does.
 */
const wait4Script = `
import os, sys, time
started = time.monotonic()
try:
    pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
except OSError as error:
    print(error, file=sys.stderr)
    sys.exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - started
with open(sys.argv[1], 'w') as out:
    out.write(f'{wall:.6f} {usage.ru_utime:.6f} {usage.ru_stime:.6f} {usage.ru_maxrss}\\n')
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
`;

/** Debian's own Python: a pyenv shim first on PATH would add its start-up and its environment. */
export const python = '/usr/bin/python3';

/**
 * Runs a command under {@link wait4Script}, which takes the child's CPU and peak RSS from the
 * kernel's accounting at its exit: exact per process (threads and waited-for children included),
 * unlike sampling /proc, and the same for Node, Python and Go clients.
 */
export async function runMeasured(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; scratch: string; timeoutMs?: number },
): Promise<ProcessCost> {
  const timeFile = join(options.scratch, `time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const child = spawn(python, ['-c', wait4Script, timeFile, command, ...args], {
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
  const figures = timing.trim().split(' ').map(Number);
  const [wallSeconds, userSeconds, systemSeconds, maxRssKiB] = figures;
  if (figures.length !== 4 || figures.some((value) => !Number.isFinite(value))) {
    throw new ChildFailed(`could not read the measured figures: '${timing.trim()}'`);
  }
  return { wallSeconds: wallSeconds!, userSeconds: userSeconds!, systemSeconds: systemSeconds!, maxRssKiB: maxRssKiB!, stdout, stderr };
}
