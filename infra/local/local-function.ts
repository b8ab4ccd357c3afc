import { Worker } from 'node:worker_threads';
import type { FunctionWorkerData, InvocationOutcome } from './function-worker.ts';

export interface LocalFunctionOptions extends FunctionWorkerData {
  /** The function's environment variables, as the stack sets them; nothing else is shared. */
  readonly environment: Readonly<Record<string, string>>;
  /** Receives what the function writes (its logs), instead of this process's output. */
  readonly onOutput?: (text: string) => void;
}

/**
 * A Lambda function of the local runtime: its handler runs in a worker thread of its own, with its
 * own environment and module state, as each function has its own execution environment in AWS.
 * The functions and the embedded servers so spread over the machine's cores.
 */
export class LocalFunction {
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private sequence = 0;

  private constructor(
    private readonly worker: Worker,
    public readonly name: string,
  ) {
    worker.on('message', (outcome: InvocationOutcome) => {
      const waiting = this.pending.get(outcome.id);
      if (!waiting) return;
      this.pending.delete(outcome.id);
      if ('error' in outcome) waiting.reject(new Error(`${name}: ${outcome.error}`));
      else waiting.resolve(outcome.result);
    });
    worker.on('error', (error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    });
  }

  /** Starts the function and waits for its cold start (the handler module imported). */
  public static async start(options: LocalFunctionOptions): Promise<LocalFunction> {
    const { environment, onOutput, ...data } = options;
    const worker = new Worker(new URL('./function-worker.ts', import.meta.url), {
      workerData: data,
      env: { ...process.env, ...environment },
      // The handlers are TypeScript, loaded as the local runtime itself is.
      execArgv: ['--import', 'tsx'],
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
    return new LocalFunction(worker, options.functionName);
  }

  public invoke<Result>(event: unknown): Promise<Result> {
    const id = (this.sequence += 1);
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, event });
    });
  }

  public async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
