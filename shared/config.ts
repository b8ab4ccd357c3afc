/**
 * The service's settings: the one place that names them, gives their defaults, writes them into a
 * function's environment ({@link serviceEnvironment}: the CDK stack and the local runtime both call
 * it) and reads them back at cold start ({@link readConfig}). Physical resource names (the table, the
 * bucket, the queues) are chosen by whoever deploys and reach the code only through here.
 */

/** Defaults of the settings an operator may change, each set here and nowhere else. */
export const serviceDefaults = {
  /** Receives of a delivery message before it is final and dead-lettered. */
  maxAttempts: 5,
  /** First retry delay of a transient failure; later ones double it (with jitter, up to 15 min). */
  retryBaseSeconds: 10,
  /** Days job records and staged files are kept. */
  retentionDays: 30,
  /** How long a presigned upload URL stays valid. */
  presignedUrlSeconds: 3600,
  /** API Gateway answers 504 after 29 s; the ingress must finish before that. */
  ingressTimeoutSeconds: 29,
  /** How long `async: false` waits for the delivery, leaving time to answer within the gateway's limit. */
  syncWaitSeconds: 25,
  /**
   * `async: false` requests that may wait at once, deployment-wide; the next ones get their token
   * at once. Half the ingress's reserved concurrency, so waiting never takes all of it.
   */
  maxSyncWaiters: 50,
  /** The largest source the service reads (50 GiB); larger ones fail before a byte is sent. */
  maxSourceBytes: 50 * 1024 ** 3,
  /**
   * How long one delivery may take from its first attempt, waits and retries included (7 days):
   * then it fails for good, so no job costs attempts and waits without end.
   */
  maxDeliverySeconds: 7 * 86_400,
} as const;

/** Staging-bucket prefixes the ingress acts on: presigned uploads, and files dropped with a manifest. */
export const stagingPrefixes = { presignedUploads: 'uploads/', drop: 'drop/' } as const;

/**
 * Suffixes of the staging bucket's side-car files: `drop/clip.mp4.upload.json` holds the request
 * for `drop/clip.mp4` (and may hold inline credentials until it is accepted); the door writes the
 * job it made to `drop/clip.mp4.upload-job.json`. Neither is ever a source.
 */
export const stagingSuffixes = { manifest: '.upload.json', jobNote: '.upload-job.json' } as const;

/**
 * Names of stored secrets under the deployment's secret prefix. Callers' `credentials` references
 * live under their own sub-prefix, so a reference can never name a deployment secret.
 */
export const secretNames = {
  callbackSigningKey: 'callback-signing-key',
  credentials: (reference: string): string => `credentials/${reference}`,
  /** A destination's deployment-wide application secret (an OAuth client), read by its function only. */
  application: (destinationType: string): string => `application/${destinationType}`,
} as const;

export interface ServiceConfig {
  readonly tableName: string;
  readonly stagingBucket: string;
  /** Secrets Manager names under this prefix are the only ones the functions may read. */
  readonly secretPrefix: string;
  /** Destination type → its queue URL (ingress only). */
  readonly queueUrls: Readonly<Record<string, string>>;
  /** Destination type → its function's name, which the ingress invokes to test a destination (ingress only). */
  readonly destinationFunctions: Readonly<Record<string, string>>;
  /** Endpoints of the service's own AWS resources (local runtime only; AWS's own when unset). */
  readonly awsEndpoints: { readonly s3?: string; readonly sqs?: string; readonly dynamodb?: string; readonly lambda?: string };
  readonly region: string;
  /** Local runtime: sources, destinations and callbacks on loopback or private networks are allowed. */
  readonly allowPrivateNetworks: boolean;
  /** Source URL hosts the service may fetch from; empty means any public host. */
  readonly allowedSourceHosts: readonly string[];
  /**
   * Staging-bucket prefixes a request may name as its `{ bucket, key }` source (the doors' own
   * objects aside); empty means none: files reach the service through the presigned and drop doors.
   */
  readonly stagingSourcePrefixes: readonly string[];
  /** Hosts stored credentials may be sent to beyond those each destination trusts (`hostMatches` patterns). */
  readonly credentialHosts: readonly string[];
  /**
   * The AWS account the service is deployed in (ingress only): a destination may not name a role of
   * it to assume. Unknown when unset: then no role is refused.
   */
  readonly accountId?: string;
  /** Where inline secrets are sealed: a KMS key in AWS, a key file locally. */
  readonly sealer: { readonly kind: 'kms'; readonly keyId: string } | { readonly kind: 'local'; readonly keyFile: string };
  /** Where stored secrets are read: Secrets Manager in AWS, a JSON file locally. */
  readonly secretStore: { readonly kind: 'secrets-manager' } | { readonly kind: 'file'; readonly path: string };
  readonly maxAttempts: number;
  readonly retryBaseSeconds: number;
  readonly retentionDays: number;
  readonly presignedUrlSeconds: number;
  readonly syncWaitSeconds: number;
  readonly maxSyncWaiters: number;
  readonly maxSourceBytes: number;
  readonly maxDeliverySeconds: number;
}

/** What a deployment sets; everything not given takes its default. */
export type ServiceSettings = Pick<ServiceConfig, 'tableName' | 'stagingBucket' | 'secretPrefix' | 'sealer'> &
  Partial<Omit<ServiceConfig, 'tableName' | 'stagingBucket' | 'secretPrefix' | 'sealer' | 'region'>>;

type Environment = Readonly<Record<string, string | undefined>>;

const names = {
  tableName: 'UD_TABLE_NAME',
  stagingBucket: 'UD_STAGING_BUCKET',
  secretPrefix: 'UD_SECRET_PREFIX',
  queueUrls: 'UD_QUEUE_URLS',
  destinationFunctions: 'UD_DESTINATION_FUNCTIONS',
  s3Endpoint: 'UD_S3_ENDPOINT',
  sqsEndpoint: 'UD_SQS_ENDPOINT',
  dynamodbEndpoint: 'UD_DYNAMODB_ENDPOINT',
  lambdaEndpoint: 'UD_LAMBDA_ENDPOINT',
  allowPrivateNetworks: 'UD_ALLOW_PRIVATE_NETWORKS',
  allowedSourceHosts: 'UD_ALLOWED_SOURCE_HOSTS',
  stagingSourcePrefixes: 'UD_STAGING_SOURCE_PREFIXES',
  credentialHosts: 'UD_CREDENTIAL_HOSTS',
  accountId: 'UD_ACCOUNT_ID',
  kmsKeyId: 'UD_KMS_KEY_ID',
  localKeyFile: 'UD_LOCAL_KEY_FILE',
  secretsFile: 'UD_SECRETS_FILE',
  maxAttempts: 'UD_MAX_ATTEMPTS',
  retryBaseSeconds: 'UD_RETRY_BASE_SECONDS',
  retentionDays: 'UD_RETENTION_DAYS',
  presignedUrlSeconds: 'UD_PRESIGNED_URL_SECONDS',
  syncWaitSeconds: 'UD_SYNC_WAIT_SECONDS',
  maxSyncWaiters: 'UD_MAX_SYNC_WAITERS',
  maxSourceBytes: 'UD_MAX_SOURCE_BYTES',
  maxDeliverySeconds: 'UD_MAX_DELIVERY_SECONDS',
} as const;

/**
 * The environment variables that carry `settings` into a function. `encodeJson` writes the JSON
 * ones: the stack passes CDK's `toJsonString`, since the queue URLs are tokens until deployment.
 */
export function serviceEnvironment(settings: ServiceSettings, encodeJson: (value: unknown) => string = JSON.stringify): Record<string, string> {
  const environment: Record<string, string> = {
    [names.tableName]: settings.tableName,
    [names.stagingBucket]: settings.stagingBucket,
    [names.secretPrefix]: settings.secretPrefix,
    [names.allowedSourceHosts]: (settings.allowedSourceHosts ?? []).join(','),
    [names.stagingSourcePrefixes]: (settings.stagingSourcePrefixes ?? []).join(','),
    [names.credentialHosts]: (settings.credentialHosts ?? []).join(','),
    [names.maxAttempts]: String(settings.maxAttempts ?? serviceDefaults.maxAttempts),
    [names.retryBaseSeconds]: String(settings.retryBaseSeconds ?? serviceDefaults.retryBaseSeconds),
    [names.retentionDays]: String(settings.retentionDays ?? serviceDefaults.retentionDays),
    [names.presignedUrlSeconds]: String(settings.presignedUrlSeconds ?? serviceDefaults.presignedUrlSeconds),
    [names.syncWaitSeconds]: String(settings.syncWaitSeconds ?? serviceDefaults.syncWaitSeconds),
    [names.maxSyncWaiters]: String(settings.maxSyncWaiters ?? serviceDefaults.maxSyncWaiters),
    [names.maxSourceBytes]: String(settings.maxSourceBytes ?? serviceDefaults.maxSourceBytes),
    [names.maxDeliverySeconds]: String(settings.maxDeliverySeconds ?? serviceDefaults.maxDeliverySeconds),
  };
  if (settings.sealer.kind === 'kms') environment[names.kmsKeyId] = settings.sealer.keyId;
  else environment[names.localKeyFile] = settings.sealer.keyFile;
  if (settings.secretStore?.kind === 'file') environment[names.secretsFile] = settings.secretStore.path;
  if (settings.queueUrls) environment[names.queueUrls] = encodeJson(settings.queueUrls);
  if (settings.destinationFunctions) environment[names.destinationFunctions] = encodeJson(settings.destinationFunctions);
  if (settings.allowPrivateNetworks) environment[names.allowPrivateNetworks] = 'true';
  if (settings.accountId) environment[names.accountId] = settings.accountId;
  const endpoints = settings.awsEndpoints ?? {};
  if (endpoints.s3) environment[names.s3Endpoint] = endpoints.s3;
  if (endpoints.sqs) environment[names.sqsEndpoint] = endpoints.sqs;
  if (endpoints.dynamodb) environment[names.dynamodbEndpoint] = endpoints.dynamodb;
  if (endpoints.lambda) environment[names.lambdaEndpoint] = endpoints.lambda;
  return environment;
}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}

function required(environment: Environment, name: string): string {
  const value = environment[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

function positiveInteger(environment: Environment, name: string, fallback: number): number {
  const text = environment[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`environment variable ${name} must be a positive integer, got '${text}'`);
  return value;
}

/** Reads the settings {@link serviceEnvironment} wrote; a missing required one fails at cold start, not mid-delivery. */
export function readConfig(environment: Environment = process.env): ServiceConfig {
  const keyId = environment[names.kmsKeyId];
  const secretsFile = environment[names.secretsFile];
  return {
    tableName: required(environment, names.tableName),
    stagingBucket: required(environment, names.stagingBucket),
    secretPrefix: required(environment, names.secretPrefix),
    queueUrls: JSON.parse(environment[names.queueUrls] ?? '{}') as Record<string, string>,
    destinationFunctions: JSON.parse(environment[names.destinationFunctions] ?? '{}') as Record<string, string>,
    awsEndpoints: {
      ...(environment[names.s3Endpoint] ? { s3: environment[names.s3Endpoint] } : {}),
      ...(environment[names.sqsEndpoint] ? { sqs: environment[names.sqsEndpoint] } : {}),
      ...(environment[names.dynamodbEndpoint] ? { dynamodb: environment[names.dynamodbEndpoint] } : {}),
      ...(environment[names.lambdaEndpoint] ? { lambda: environment[names.lambdaEndpoint] } : {}),
    },
    region: environment.AWS_REGION ?? environment.AWS_DEFAULT_REGION ?? 'us-east-1',
    allowPrivateNetworks: environment[names.allowPrivateNetworks] === 'true',
    allowedSourceHosts: list(environment[names.allowedSourceHosts]),
    stagingSourcePrefixes: list(environment[names.stagingSourcePrefixes]),
    credentialHosts: list(environment[names.credentialHosts]),
    ...(environment[names.accountId] ? { accountId: environment[names.accountId] } : {}),
    sealer: keyId ? { kind: 'kms', keyId } : { kind: 'local', keyFile: required(environment, names.localKeyFile) },
    secretStore: secretsFile ? { kind: 'file', path: secretsFile } : { kind: 'secrets-manager' },
    maxAttempts: positiveInteger(environment, names.maxAttempts, serviceDefaults.maxAttempts),
    retryBaseSeconds: positiveInteger(environment, names.retryBaseSeconds, serviceDefaults.retryBaseSeconds),
    retentionDays: positiveInteger(environment, names.retentionDays, serviceDefaults.retentionDays),
    presignedUrlSeconds: positiveInteger(environment, names.presignedUrlSeconds, serviceDefaults.presignedUrlSeconds),
    syncWaitSeconds: positiveInteger(environment, names.syncWaitSeconds, serviceDefaults.syncWaitSeconds),
    maxSyncWaiters: positiveInteger(environment, names.maxSyncWaiters, serviceDefaults.maxSyncWaiters),
    maxSourceBytes: positiveInteger(environment, names.maxSourceBytes, serviceDefaults.maxSourceBytes),
    maxDeliverySeconds: positiveInteger(environment, names.maxDeliverySeconds, serviceDefaults.maxDeliverySeconds),
  };
}
