import { spawn } from 'node:child_process';
import { requireProgram, setpriv } from './programs.ts';

/** A server running as a child process of the test process. */
export interface ServerProcess {
  readonly pid: number;
  /** Settles like `waiting`, unless the process ends first: then rejects with its output (the last 64 KiB). */
  whileRunning<T>(waiting: Promise<T>): Promise<T>;
  /** Resolves with the first match of `pattern` in the output; rejects after `timeoutMs` or if the process ends. */
  outputMatching(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Ends the process (SIGTERM, then SIGKILL if it lingers) and resolves once it has exited. */
  stop(): Promise<void>;
}

const outputLimit = 64 * 1024;
const stopGraceMs = 5_000;

/**
 * Starts `path` with `args` as a server that lives until `stop()` or the end of the test process
 * (in a worker thread: of the thread that started it). `name` is used in error messages.
 */
export function startServerProcess(name: string, path: string, args: readonly string[]): ServerProcess {
  // A test process that ends without closing its servers (a failed hook, a worker the test runner
  // kills) must not leave them running with their ports taken. setpriv asks the kernel to kill the
  // server when the test process goes, however it goes, then becomes the server (same PID).
  requireProgram(setpriv);
  const child = spawn(setpriv.path, ['--pdeathsig', 'KILL', '--', path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const outputListeners = new Set<() => void>();
  const record = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-outputLimit);
    for (const listener of outputListeners) listener();
  };
  child.stdout.on('data', record);
  child.stderr.on('data', record);

  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ?? `code ${code}`;
      resolve();
    });
  });
  // 'close' comes once the output has been read to its end as well. It waits for every process
  // that inherited the output pipes, so stop() waits for 'exit' instead: sshd's session processes
  // outlive it until their clients disconnect.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const whileRunning = <T>(waiting: Promise<T>): Promise<T> =>
    Promise.race([
      waiting,
      closed.then(() => {
        throw new Error(`${name} ended (${exit}) while starting:\n${output}`);
      }),
    ]);

  return {
    pid: child.pid!,
    whileRunning,
    outputMatching: async (pattern, timeoutMs = 30_000) => {
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
      if (exit !== undefined) return;
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
