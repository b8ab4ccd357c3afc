import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { destinations } from '../../functions/destinations/registry.ts';
import { secretNames, serviceDefaults, serviceEnvironment } from '../../shared/config.ts';
import { FileSecretStore } from '../../shared/secrets/secret-store.ts';
import { functionEntries, resourceNames } from '../resources.ts';
import { bundleFunctions } from './function-bundles.ts';
import { startHttpGateway } from './http-gateway.ts';
import { createJobTable } from './job-table.ts';
import { startLocalLambdaApi } from './lambda-api.ts';
import { localAccountId } from './lambda-context.ts';
import { LocalFunction } from './local-function.ts';
import { startLocalS3, type LocalS3 } from './s3-server.ts';
import { startServerThread } from './server-thread.ts';
import { SqsEventSource, type SqsHandler } from './sqs-event-source.ts';

export interface LocalPipelineOptions {
  /** Where the embedded S3 keeps objects and where the local key and secrets live. */
  readonly stateDirectory: string;
  /** Ports; 0 picks a free one. */
  readonly ports?: { readonly api?: number; readonly s3?: number; readonly sqs?: number; readonly dynamodb?: number };
  readonly maxAttempts?: number;
  /** First retry delay of a transient failure. @default serviceDefaults.retryBaseSeconds */
  readonly retryBaseSeconds?: number;
  /** Invocations per destination queue running at once, for all or per destination type. @default 4 */
  readonly concurrency?: number | Readonly<Record<string, number>>;
  /** Records per invocation of a destination function. @default 10 (the stack's event sources take 1) */
  readonly destinationBatchSize?: number;
  /** Every destination function's timeout. @default each one's, from the registry */
  readonly functionTimeoutSeconds?: number;
  /** How long a received message stays invisible: a crashed invocation's messages come back after it. @default 300 */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Where the functions reach an embedded AWS service, given where it listens: through a fault
   * proxy, say. The event sources, which stand for Lambda's own pollers, reach it directly.
   * @default directly
   */
  readonly functionEndpoint?: (service: 'sqs' | 'dynamodb' | 's3', endpoint: string) => string | Promise<string>;
  /**
   * Staging-bucket prefixes a request may name as its `{ bucket, key }` source.
   * @default ['samples/'] - where `npm start` puts its sample file
   */
  readonly stagingSourcePrefixes?: readonly string[];
  /** How many `async: false` requests may wait at once. @default serviceDefaults.maxSyncWaiters */
  readonly maxSyncWaiters?: number;
  /** Reports failures of the pipeline's own plumbing (not of deliveries, which jobs record). */
  readonly onError?: (error: unknown) => void;
  /**
   * Receives every function's log output (at `logLevel`), instead of this process's output: for
   * tests that check what is logged.
   */
  readonly onLog?: (text: string) => void;
  /** The functions' log level (`POWERTOOLS_LOG_LEVEL`). @default the environment's */
  readonly logLevel?: string;
  /**
   * The functions write their metrics (EMF records) to their output, as in Lambda.
   * @default false - `npm start`'s console stays readable
   */
  readonly metrics?: boolean;
  /** Sees the body of every message the event sources hand to a function (tests of what queues carry). */
  readonly onMessage?: (body: string) => void;
  /** Told when a destination function's environment ends before its time (a crash, a timeout, a restart), once its thread has stopped. */
  readonly onDestinationCrash?: (type: string, reason: string) => void;
}

export interface LocalPipeline {
  readonly apiUrl: string;
  readonly s3: LocalS3;
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  /** Destination type → queue URL. */
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly deadLetterQueueUrls: Readonly<Record<string, string>>;
  /** Where other systems send requests (the SQS door). */
  readonly inboxQueueUrl: string;
  readonly inboxDeadLetterQueueUrl: string;
  /** A bucket of the embedded S3 to deliver into, with its keys stored as the secret `local-s3`. */
  readonly deliveryBucket: string;
  readonly secretsFile: string;
  /** Stores secrets beside the others in the file-backed store (a name given again is replaced), as an operator would. */
  storeSecrets(entries: Readonly<Record<string, unknown>>): Promise<void>;
  /** Requests the embedded SQS and DynamoDB have served so far, by action (the S3 front records its own: `s3.requests`). */
  requestCounts(): Promise<{ readonly sqs: Readonly<Record<string, number>>; readonly dynamodb: Readonly<Record<string, number>> }>;
  /** CPU time each embedded server's thread has used so far, in ms: what the stand-ins cost, apart from the service's own code. */
  serverCpuMs(): Promise<{ readonly sqs: number; readonly dynamodb: number; readonly s3: number }>;
  /** Every function by name (`resourceNames.functionName`): to crash one, or read its memory. */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  /**
   * Restarts the service as a deployment or an outage of the compute would: every function
   * environment ends mid-invocation and cold-starts, and the event sources start polling anew.
   * The queues, the table and the buckets keep their state, as AWS's managed services do.
   */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const localDeliveryBucket = 'deliveries';
export const localCredentialsSecret = 'local-s3';
/** Locally a crashed invocation's messages come back after this, not after 6 × the timeout. */
const localVisibilityTimeoutSeconds = 300;

/** The local key and the file-backed secret store, created on first start and kept after. */
async function prepareState(directory: string, s3: LocalS3): Promise<{ keyFile: string; secretsFile: string }> {
  await mkdir(directory, { recursive: true });
  const keyFile = join(directory, 'master.key');
  if (!existsSync(keyFile)) await writeFile(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const secretsFile = join(directory, 'secrets.json');
  const store = new FileSecretStore(secretsFile);
  // A first start has no file, or no key yet; a file that cannot be read fails the `put` below.
  const signingKey = await store.read(secretNames.callbackSigningKey).catch(() => undefined);
  await store.put({
    [secretNames.credentials(localCredentialsSecret)]: { aws_access_key_id: s3.accessKeyId, aws_secret_access_key: s3.secretAccessKey },
    [secretNames.callbackSigningKey]: signingKey ?? { key: randomBytes(32).toString('base64url') },
  });
  return { keyFile, secretsFile };
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl ?? '', arn: Attributes?.QueueArn ?? '' };
}

/** A queue and its dead-letter queue, as the stack makes them. */
async function createQueuePair(sqs: SQSClient, name: string, deadLetterName: string, maxAttempts: number, visibilityTimeoutSeconds: number) {
  const deadLetter = await createQueue(sqs, deadLetterName, {});
  const queue = await createQueue(sqs, name, {
    VisibilityTimeout: String(visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: maxAttempts }),
  });
  return { queue, deadLetter };
}

/** What the pipeline starts and must stop again. */
type Stoppable = { stop(): Promise<void> } | { close(): Promise<void> };

/**
 * Waits for things started at once, registering each one's closer as it starts. When one fails the
 * others are still waited for, so the pipeline's `close` stops every one that did start.
 */
async function startedTogether<const Starts extends readonly Promise<Stoppable>[]>(
  closers: (() => Promise<void>)[],
  starts: Starts,
): Promise<{ -readonly [Index in keyof Starts]: Awaited<Starts[Index]> }> {
  const outcomes = await Promise.allSettled(
    starts.map((start) =>
      start.then((started) => {
        closers.push('stop' in started ? () => started.stop() : () => started.close());
        return started;
      }),
    ),
  );
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<Stoppable>).value) as { -readonly [Index in keyof Starts]: Awaited<Starts[Index]> };
}

/**
 * The whole pipeline on loopback: SQS (fauxqs), S3 (s3rver behind the local front), DynamoDB
 * (dynalite), a file-backed secret store and a local sealing key; the real ingress handler behind an
 * HTTP gateway, the inbox and the staging bucket's events, and the real destination handlers behind
 * SQS event sources, each function in a worker thread of its own. Resource names come from the same
 * description the CDK stack uses.
 */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const stateDirectory = resolve(options.stateDirectory);
  const maxAttempts = options.maxAttempts ?? serviceDefaults.maxAttempts;
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? localVisibilityTimeoutSeconds;
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    // Each server and each function runs in a thread of its own, so they start at once, while the
    // functions are bundled.
    const bundling = bundleFunctions(
      { ingress: functionEntries.ingress, ...Object.fromEntries(destinations.map(({ type }) => [type, functionEntries.destination(type)])) },
      join(stateDirectory, 'functions'),
    );
    // Awaited below; should a server fail first, the bundling's failure must not go unhandled.
    bundling.catch(() => undefined);
    const [s3, sqsServer, dynamoServer] = await startedTogether(closers, [
      startLocalS3({
        directory: join(stateDirectory, 's3'),
        port: options.ports?.s3 ?? 0,
        buckets: [resourceNames.stagingBucket, localDeliveryBucket],
      }),
      startServerThread({ kind: 'fauxqs', port: options.ports?.sqs ?? 0 }),
      startServerThread({ kind: 'dynalite', port: options.ports?.dynamodb ?? 0 }),
    ]);
    const sqsEndpoint = sqsServer.endpoint;
    const dynamodbEndpoint = dynamoServer.endpoint;

    const { keyFile, secretsFile } = await prepareState(stateDirectory, s3);
    const region = 'us-east-1';
    const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };

    const dynamo = new DynamoDBClient({ region, endpoint: dynamodbEndpoint, credentials });
    await createJobTable(dynamo);
    dynamo.destroy();

    const sqs = new SQSClient({ region, endpoint: sqsEndpoint, credentials });
    closers.push(async () => sqs.destroy());
    const queues = Object.fromEntries(
      await Promise.all(
        destinations.map(async ({ type }) => [
          type,
          await createQueuePair(sqs, resourceNames.destinationQueue(type), resourceNames.destinationDeadLetterQueue(type), maxAttempts, visibilityTimeoutSeconds),
        ] as const),
      ),
    );
    const queueUrls = Object.fromEntries(Object.entries(queues).map(([type, pair]) => [type, pair.queue.url]));
    const inbox = await createQueuePair(sqs, resourceNames.inboxQueue, resourceNames.inboxDeadLetterQueue, maxAttempts, visibilityTimeoutSeconds);

    // What the stack sets on every function, pointed at the embedded servers.
    const settings = {
      tableName: resourceNames.table,
      stagingBucket: resourceNames.stagingBucket,
      secretPrefix: resourceNames.secretPrefix,
      sealer: { kind: 'local', keyFile },
      secretStore: { kind: 'file', path: secretsFile },
      awsEndpoints: {
        s3: (await options.functionEndpoint?.('s3', s3.endpoint)) ?? s3.endpoint,
        sqs: (await options.functionEndpoint?.('sqs', sqsEndpoint)) ?? sqsEndpoint,
        dynamodb: (await options.functionEndpoint?.('dynamodb', dynamodbEndpoint)) ?? dynamodbEndpoint,
      },
      allowPrivateNetworks: true,
      stagingSourcePrefixes: options.stagingSourcePrefixes ?? ['samples/'],
      // The embedded servers' keys are stored secrets sent to loopback.
      credentialHosts: ['127.0.0.1', 'localhost'],
      maxAttempts,
      ...(options.maxSyncWaiters === undefined ? {} : { maxSyncWaiters: options.maxSyncWaiters }),
      ...(options.retryBaseSeconds === undefined ? {} : { retryBaseSeconds: options.retryBaseSeconds }),
    } as const;
    const environment = {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      ...(options.logLevel === undefined ? {} : { POWERTOOLS_LOG_LEVEL: options.logLevel }),
      POWERTOOLS_METRICS_DISABLED: options.metrics ? 'false' : 'true',
      ...serviceEnvironment(settings),
    };
    const report = (error: unknown): void => options.onError?.(error);
    const output = options.onLog === undefined ? {} : { onOutput: options.onLog };
    /** What the event source mapping hands a function, seen on its way. */
    const observed = (invoke: SqsHandler): SqsHandler =>
      options.onMessage === undefined
        ? invoke
        : (event) => {
            for (const record of event.Records) options.onMessage?.(record.body);
            return invoke(event);
          };

    // The ingress invokes a destination's function to test a destination, through Lambda's API.
    const functions = new Map<string, LocalFunction>();
    const lambdaApi = await startLocalLambdaApi((name, event) => functions.get(name)?.invoke(event));
    closers.push(() => lambdaApi.close());
    const functionNames = Object.fromEntries(destinations.map(({ type }) => [type, resourceNames.functionName(type)]));

    const modules = await bundling;
    const [ingress, ...destinationFunctions] = await startedTogether(closers, [
      // One ingress function behind the three doors, as in the stack.
      LocalFunction.start({
        entry: modules.ingress!,
        functionName: resourceNames.functionName('ingress'),
        timeoutSeconds: serviceDefaults.ingressTimeoutSeconds,
        environment: {
          ...environment,
          ...serviceEnvironment({
            ...settings,
            queueUrls,
            destinationFunctions: functionNames,
            accountId: localAccountId,
            awsEndpoints: { ...settings.awsEndpoints, lambda: lambdaApi.endpoint },
          }),
        },
        ...output,
      }),
      ...destinations.map((definition) =>
        LocalFunction.start({
          entry: modules[definition.type]!,
          functionName: resourceNames.functionName(definition.type),
          timeoutSeconds: options.functionTimeoutSeconds ?? definition.lambda.timeoutSeconds,
          environment,
          ...output,
          onCrash: (reason) => options.onDestinationCrash?.(definition.type, reason),
        }),
      ),
    ]);
    for (const started of [ingress, ...destinationFunctions]) functions.set(started.name, started);

    const eventSources: SqsEventSource[] = [];
    const concurrencyOf = (type: string): number =>
      (typeof options.concurrency === 'number' ? options.concurrency : options.concurrency?.[type]) ?? 4;
    destinations.forEach((definition, index) => {
      const destination = destinationFunctions[index]!;
      const { queue } = queues[definition.type]!;
      const source = new SqsEventSource({
        sqs,
        queueUrl: queue.url,
        handler: observed((event) => destination.invoke(event)),
        queueArn: queue.arn,
        concurrency: concurrencyOf(definition.type),
        ...(options.destinationBatchSize === undefined ? {} : { batchSize: options.destinationBatchSize }),
        onError: report,
      });
      source.start();
      eventSources.push(source);
      closers.push(() => source.stop());
    });

    const gateway = await startHttpGateway((event) => ingress.invoke(event), options.ports?.api ?? 0);
    closers.push(() => gateway.close());
    const inboxSource = new SqsEventSource({
      sqs,
      queueUrl: inbox.queue.url,
      queueArn: inbox.queue.arn,
      handler: observed((event) => ingress.invoke(event)),
      concurrency: 2,
      onError: report,
    });
    inboxSource.start();
    eventSources.push(inboxSource);
    closers.push(() => inboxSource.stop());
    // S3 invokes the function asynchronously and retries twice; locally a failure is reported.
    s3.onEvent((event) => {
      if (!event.Records.some((record) => record.s3.bucket.name === resourceNames.stagingBucket)) return;
      ingress.invoke(event).catch(report);
    });

    return {
      apiUrl: gateway.url,
      s3,
      sqsEndpoint,
      dynamodbEndpoint,
      queueUrls,
      deadLetterQueueUrls: Object.fromEntries(Object.entries(queues).map(([type, pair]) => [type, pair.deadLetter.url])),
      inboxQueueUrl: inbox.queue.url,
      inboxDeadLetterQueueUrl: inbox.deadLetter.url,
      deliveryBucket: localDeliveryBucket,
      secretsFile,
      storeSecrets: (entries) => new FileSecretStore(secretsFile).put(entries),
      requestCounts: async () => ({ sqs: await sqsServer.requestCounts(), dynamodb: await dynamoServer.requestCounts() }),
      serverCpuMs: async () => ({ sqs: await sqsServer.cpuMs(), dynamodb: await dynamoServer.cpuMs(), s3: await s3.backendCpuMs() }),
      functions,
      restart: async () => {
        const stopping = eventSources.map((source) => source.stop());
        await Promise.all([...functions.values()].map((fn) => fn.crash('the service restarted')));
        await Promise.all(stopping);
        for (const source of eventSources) source.start();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
