import { spawn, type ChildProcess } from 'node:child_process';

/** A server running as a child process of the test process. */
export interface ServerProcess {
  readonly pid: number;
  /** What the process has written to stdout and stderr so far (the last 64 KiB), for error messages. */
  output(): string;
  /** Settles like `waiting`, unless the process exits first: then rejects with its output. */
  whileRunning<T>(waiting: Promise<T>): Promise<T>;
  /** Resolves with the first match of `pattern` in the output; rejects after `timeoutMs` or if the process exits. */
  outputMatching(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Ends the process (SIGTERM, then SIGKILL if it lingers) and resolves once it has exited. */
  stop(): Promise<void>;
}

const outputLimit = 64 * 1024;
const stopGraceMs = 5_000;

// A test process that ends without closing its servers (a failed hook, a crash) must not leave
// them running: the next run would find their ports and users busy. A child spawned here stays in
// the test process's process group as well, so Ctrl-C in a terminal reaches it too.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `path` with `args` as a server that lives until `stop()` or the end of the test process.
 * `name` is used in error messages.
 */
export function startServerProcess(name: string, path: string, args: readonly string[]): ServerProcess {
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const outputListeners = new Set<() => void>();
  const record = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-outputLimit);
    for (const listener of outputListeners) listener();
  };
  child.stdout!.on('data', record);
  child.stderr!.on('data', record);

  let exitCode: number | string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      exitCode = code ?? signal ?? undefined;
      running.delete(child);
      resolve();
    });
  });
  // A program that cannot be started at all reports it as an error event, and then 'close'.
  child.once('error', (error) => record(Buffer.from(`${error.message}\n`)));

  const whileRunning = <T>(waiting: Promise<T>): Promise<T> =>
    Promise.race([
      waiting,
      exited.then(() => {
        throw new Error(`${name} exited (${exitCode}) while starting:\n${output}`);
      }),
    ]);

  return {
    pid: child.pid ?? -1,
    output: () => output,
    whileRunning,
    outputMatching: async (pattern, timeoutMs = 10_000) => {
      let onOutput = (): void => undefined;
      let timer: NodeJS.Timeout | undefined;
      const matched = new Promise<RegExpExecArray>((resolve, reject) => {
        onOutput = () => {
          const match = pattern.exec(output);
          if (match) resolve(match);
        };
        timer = setTimeout(() => reject(new Error(`${name} printed nothing matching ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
      });
      outputListeners.add(onOutput);
      onOutput();
      try {
        return await whileRunning(matched);
      } finally {
        clearTimeout(timer);
        outputListeners.delete(onOutput);
      }
    },
    stop: async () => {
      if (exitCode !== undefined || child.pid === undefined) return;
      child.kill('SIGTERM');
      const lingering = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      await exited;
      clearTimeout(lingering);
    },
  };
}

/** Whether a process with this ID exists (a stopped server's must not). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
