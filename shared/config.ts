import { defaultMaxAttempts, resourceNames } from '../infra/resources.ts';

/**
 * The service's settings, read once from the environment at cold start. The CDK stack and the
 * local runtime set the same variables; a missing required one fails at start, not mid-delivery.
 */
export interface ServiceConfig {
  readonly tableName: string;
  readonly stagingBucket: string;
  /** Destination type → its queue URL (ingress only). */
  readonly queueUrls: Readonly<Record<string, string>>;
  /** Endpoints of the service's own AWS resources (local runtime only; AWS's own when unset). */
  readonly awsEndpoints: { readonly s3?: string; readonly sqs?: string; readonly dynamodb?: string };
  readonly region: string;
  /** Local runtime: sources, destinations and callbacks on loopback or private networks are allowed. */
  readonly allowPrivateNetworks: boolean;
  /** Source URL hosts the service may fetch from; empty means any public host. */
  readonly allowedSourceHosts: readonly string[];
  readonly secretPrefix: string;
  /** Where inline secrets are sealed: a KMS key in AWS, a key file locally. */
  readonly sealer: { readonly kind: 'kms'; readonly keyId: string } | { readonly kind: 'local'; readonly keyFile: string };
  /** Where `credentials` references are read: Secrets Manager in AWS, a JSON file locally. */
  readonly secretStore: { readonly kind: 'secrets-manager' } | { readonly kind: 'file'; readonly path: string };
  readonly maxAttempts: number;
  /** First retry delay of a transient failure; later ones double it (with jitter, up to 15 min). */
  readonly retryBaseSeconds: number;
  /** How long job records are kept, in days. */
  readonly retentionDays: number;
  /** How long a presigned upload URL stays valid. */
  readonly presignedUrlSeconds: number;
  /** How long `async: false` waits for the delivery before answering with the token. */
  readonly syncWaitSeconds: number;
}

type Environment = Readonly<Record<string, string | undefined>>;

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

export function readConfig(environment: Environment = process.env): ServiceConfig {
  const keyId = environment.UD_KMS_KEY_ID;
  const secretsFile = environment.UD_SECRETS_FILE;
  return {
    tableName: environment.UD_TABLE_NAME ?? resourceNames.table,
    stagingBucket: environment.UD_STAGING_BUCKET ?? resourceNames.stagingBucket,
    queueUrls: JSON.parse(environment.UD_QUEUE_URLS ?? '{}') as Record<string, string>,
    awsEndpoints: {
      ...(environment.UD_S3_ENDPOINT ? { s3: environment.UD_S3_ENDPOINT } : {}),
      ...(environment.UD_SQS_ENDPOINT ? { sqs: environment.UD_SQS_ENDPOINT } : {}),
      ...(environment.UD_DYNAMODB_ENDPOINT ? { dynamodb: environment.UD_DYNAMODB_ENDPOINT } : {}),
    },
    region: environment.AWS_REGION ?? environment.AWS_DEFAULT_REGION ?? 'us-east-1',
    allowPrivateNetworks: environment.UD_ALLOW_PRIVATE_NETWORKS === 'true',
    allowedSourceHosts: (environment.UD_ALLOWED_SOURCE_HOSTS ?? '').split(',').map((host) => host.trim()).filter(Boolean),
    secretPrefix: environment.UD_SECRET_PREFIX ?? resourceNames.secretPrefix,
    sealer: keyId ? { kind: 'kms', keyId } : { kind: 'local', keyFile: required(environment, 'UD_LOCAL_KEY_FILE') },
    secretStore: secretsFile ? { kind: 'file', path: secretsFile } : { kind: 'secrets-manager' },
    maxAttempts: positiveInteger(environment, 'UD_MAX_ATTEMPTS', defaultMaxAttempts),
    retryBaseSeconds: positiveInteger(environment, 'UD_RETRY_BASE_SECONDS', 10),
    retentionDays: positiveInteger(environment, 'UD_RETENTION_DAYS', 30),
    presignedUrlSeconds: positiveInteger(environment, 'UD_PRESIGNED_URL_SECONDS', 3600),
    syncWaitSeconds: positiveInteger(environment, 'UD_SYNC_WAIT_SECONDS', 25),
  };
}
