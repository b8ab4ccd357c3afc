import { startLocalPipeline, type LocalPipeline } from '../../../infra/local/pipeline.ts';
import { resourceNames } from '../../../infra/resources.ts';
import type { HttpFaultProxy } from '../../support/fault-proxy/http-fault-proxy.ts';

/** How the local runtime runs for a scenario. */
export interface RuntimeSettings {
  readonly maxAttempts: number;
  readonly retryBaseSeconds: number;
  /** Every destination function's timeout (Lambda's allows 900 s; short here, so a crashed attempt's lease ends soon). */
  readonly functionTimeoutSeconds: number;
  /** How long a received message stays invisible (a crashed invocation's come back after it). */
  readonly visibilityTimeoutSeconds: number;
  /** Invocations at once per destination: each invocation takes one message, as the stack's event sources do. */
  readonly concurrency: number | Readonly<Record<string, number>>;
}

/** The proxies the functions reach the embedded AWS services through. */
export interface AwsProxies {
  readonly sqs: HttpFaultProxy;
  readonly dynamodb: HttpFaultProxy;
  readonly s3: HttpFaultProxy;
}

export interface FaultRuntime {
  readonly pipeline: LocalPipeline;
  /** Ends one destination function's environment mid-invocation (a crash, a kill at the timeout). */
  crash(destinationType: string): Promise<void>;
  close(): Promise<void>;
}

/** What the run hears from the runtime. */
export interface RuntimeObservers {
  /** Failures of the runtime's own plumbing. */
  readonly onError: (error: unknown) => void;
  readonly onLog: (text: string) => void;
  /** A destination function's environment ended (a crash, a timeout, a restart): its connections' client is gone. */
  readonly onDestinationCrash: (type: string) => void;
}

/** Staging-bucket prefix the run's sources live under. */
export const sourcePrefix = 'faults/';

/**
 * Starts the local runtime with its functions reaching SQS, DynamoDB and the staging S3 through
 * the run's fault proxies (the event sources, Lambda's own pollers, reach SQS directly), one
 * message per invocation as the stack configures it, and every destination function's timeout
 * enforced: an invocation that outlives it ends its environment.
 */
export async function startFaultRuntime(
  stateDirectory: string,
  settings: RuntimeSettings,
  aws: AwsProxies,
  observers: RuntimeObservers & { readonly onMessage?: (body: string) => void },
): Promise<FaultRuntime> {
  const pipeline = await startLocalPipeline({
    stateDirectory,
    maxAttempts: settings.maxAttempts,
    retryBaseSeconds: settings.retryBaseSeconds,
    functionTimeoutSeconds: settings.functionTimeoutSeconds,
    visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
    concurrency: settings.concurrency,
    destinationBatchSize: 1,
    stagingSourcePrefixes: [sourcePrefix],
    functionEndpoint: (service, endpoint) => {
      const proxy = aws[service];
      proxy.setUpstream(Number(new URL(endpoint).port));
      return proxy.url;
    },
    onError: observers.onError,
    onLog: observers.onLog,
    ...(observers.onMessage ? { onMessage: observers.onMessage } : {}),
    onDestinationCrash: observers.onDestinationCrash,
  });
  return {
    pipeline,
    crash: async (type) => {
      const fn = pipeline.functions.get(resourceNames.functionName(type));
      if (!fn) throw new Error(`no function for destination type '${type}'`);
      await fn.crash('killed by the fault run mid-invocation');
    },
    close: () => pipeline.close(),
  };
}

/**
 * The runtime the scenarios run on: one, kept for as long as consecutive scenarios ask for the same
 * settings (each starts on drained queues), a new one when they change.
 */
export class RuntimePool {
  #current: { readonly key: string; readonly runtime: FaultRuntime } | undefined;
  #onMessage: ((body: string) => void) | undefined;

  public constructor(
    private readonly stateDirectory: string,
    private readonly aws: AwsProxies,
    private readonly observers: RuntimeObservers,
  ) {}

  /** A runtime with `settings`, whose event sources show `onMessage` each message they hand a function. */
  public async acquire(settings: RuntimeSettings, onMessage: ((body: string) => void) | undefined): Promise<FaultRuntime> {
    this.#onMessage = onMessage;
    const key = JSON.stringify(settings);
    if (this.#current?.key === key) return this.#current.runtime;
    await this.close();
    const runtime = await startFaultRuntime(this.stateDirectory, settings, this.aws, { ...this.observers, onMessage: (body) => this.#onMessage?.(body) });
    this.#current = { key, runtime };
    return runtime;
  }

  public async close(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    await current?.runtime.close();
  }
}
