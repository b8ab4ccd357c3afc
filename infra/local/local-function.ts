import { Worker } from 'node:worker_threads';
import type { FunctionWorkerData, InvocationOutcome } from './function-worker.ts';
import { threadExecArgv } from './thread-options.ts';

export interface LocalFunctionOptions extends FunctionWorkerData {
  /** The function's environment variables, as the stack sets them; nothing else is shared. */
  readonly environment: Readonly<Record<string, string>>;
  /** Receives what the function writes (its logs), instead of this process's output. */
  readonly onOutput?: (text: string) => void;
  /** Told each time the environment ends before its time (a crash, a timeout), once its thread has stopped. */
  readonly onCrash?: (reason: string) => void;
}

/** A function's memory as V8 reports it for its thread: its heap and the buffers outside it. */
export interface FunctionMemory {
  readonly heapUsedBytes: number;
  readonly externalBytes: number;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Time Lambda gives a handler past its timeout before the environment is shut down. */
const timeoutGraceMilliseconds = 1000;

/**
 * A Lambda function of the local runtime: its handler runs in a worker thread of its own, with its
 * own environment and module state, as each function has its own execution environment in AWS.
 * The functions and the embedded servers so spread over the machine's cores. As Lambda does, an
 * invocation that outlives the function's timeout ends the environment: the thread is stopped and
 * a new one cold-starts for the next invocations (here the thread is shared by the invocations
 * running at once, so they all end with it, as they would in a crash).
 */
export class LocalFunction {
  private readonly pending = new Map<number, Pending>();
  private sequence = 0;
  private worker: Promise<Worker>;
  private stopped = false;

  private constructor(
    private readonly options: LocalFunctionOptions,
    first: Worker,
  ) {
    this.worker = Promise.resolve(this.attach(first));
  }

  public get name(): string {
    return this.options.functionName;
  }

  /** Starts the function and waits for its cold start (the handler module imported). */
  public static async start(options: LocalFunctionOptions): Promise<LocalFunction> {
    return new LocalFunction(options, await LocalFunction.coldStart(options));
  }

  private static async coldStart(options: LocalFunctionOptions): Promise<Worker> {
    const { environment, onOutput, onCrash, ...data } = options;
    const worker = new Worker(new URL('./function-worker.ts', import.meta.url), {
      workerData: data,
      env: { ...process.env, ...environment },
      execArgv: threadExecArgv(),
      stdout: onOutput !== undefined,
      stderr: onOutput !== undefined,
    });
    if (onOutput) {
      worker.stdout.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
      worker.stderr.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
    }
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`function ${options.functionName} exited with code ${code} during its cold start`)));
    });
    return worker;
  }

  private attach(worker: Worker): Worker {
    worker.on('message', (outcome: InvocationOutcome) => {
      const waiting = this.pending.get(outcome.id);
      if (!waiting) return;
      this.pending.delete(outcome.id);
      clearTimeout(waiting.timer);
      if ('error' in outcome) waiting.reject(new Error(`${this.name}: ${outcome.error}`));
      else waiting.resolve(outcome.result);
    });
    worker.on('error', (error) => this.failPending(error));
    return worker;
  }

  private failPending(error: Error): void {
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.pending.clear();
  }

  public invoke<Result>(event: unknown): Promise<Result> {
    const id = (this.sequence += 1);
    return new Promise<Result>((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.crash(`Task timed out after ${this.options.timeoutSeconds} seconds`);
      }, this.options.timeoutSeconds * 1000 + timeoutGraceMilliseconds);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.worker.then(
        (worker) => worker.postMessage({ id, event }),
        (error: unknown) => {
          this.pending.delete(id);
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /**
   * Ends the function's environment at once, as a crash, an out-of-memory kill or a timeout does:
   * every invocation running in it fails with `reason`, and the next ones wait for a new cold start.
   */
  public async crash(reason = 'the function environment crashed'): Promise<void> {
    const current = this.worker;
    const replacement = (async () => {
      const worker = await current.catch(() => undefined);
      this.failPending(new Error(`${this.name}: ${reason}`));
      await worker?.terminate();
      this.options.onCrash?.(reason);
      if (this.stopped) throw new Error(`${this.name} is stopped`);
      return this.attach(await LocalFunction.coldStart(this.options));
    })();
    this.worker = replacement;
    await replacement;
  }

  /** What the function's thread holds now. */
  public async memory(): Promise<FunctionMemory> {
    const statistics = await (await this.worker).getHeapStatistics();
    return { heapUsedBytes: statistics.used_heap_size, externalBytes: statistics.external_memory };
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    const worker = await this.worker.catch(() => undefined);
    this.failPending(new Error(`${this.name} stopped`));
    await worker?.terminate();
  }
}
