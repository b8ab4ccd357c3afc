import { describe, expect, it } from 'vitest';
import { readConfig, serviceDefaults, serviceEnvironment, type ServiceSettings } from '../../shared/config.ts';

const deployed: ServiceSettings = {
  tableName: 'jobs',
  stagingBucket: 'staging-123',
  secretPrefix: 'upload-destinations/',
  sealer: { kind: 'kms', keyId: 'arn:aws:kms:eu-west-1:123456789012:key/abc' },
};

describe('Service settings', () => {
  it('reads back every setting the environment writer wrote', () => {
    const local: ServiceSettings = {
      tableName: 'jobs',
      stagingBucket: 'staging',
      secretPrefix: 'p/',
      sealer: { kind: 'local', keyFile: '/tmp/key' },
      secretStore: { kind: 'file', path: '/tmp/secrets.json' },
      queueUrls: { s3: 'http://127.0.0.1:9324/000000000000/s3' },
      destinationFunctions: { s3: 'upload-destinations-s3' },
      awsEndpoints: { s3: 'http://127.0.0.1:1', sqs: 'http://127.0.0.1:2', dynamodb: 'http://127.0.0.1:3', lambda: 'http://127.0.0.1:4' },
      allowPrivateNetworks: true,
      allowedSourceHosts: ['a.example', 'b.example'],
      stagingSourcePrefixes: ['renders/', 'exports/'],
      credentialHosts: ['*.r2.cloudflarestorage.com'],
      accountId: '000000000000',
      maxAttempts: 2,
      retryBaseSeconds: 1,
      retentionDays: 7,
      presignedUrlSeconds: 60,
      syncWaitSeconds: 5,
      maxSyncWaiters: 3,
      maxSourceBytes: 1024,
      maxDeliverySeconds: 3600,
    };

    const config = readConfig({ ...serviceEnvironment(local), AWS_REGION: 'eu-west-1' });

    expect(config).toEqual({ ...local, region: 'eu-west-1' });
  });

  it('fills every default once, from serviceDefaults', () => {
    const config = readConfig(serviceEnvironment(deployed));

    expect(config).toMatchObject({
      maxAttempts: serviceDefaults.maxAttempts,
      retryBaseSeconds: serviceDefaults.retryBaseSeconds,
      retentionDays: serviceDefaults.retentionDays,
      presignedUrlSeconds: serviceDefaults.presignedUrlSeconds,
      syncWaitSeconds: serviceDefaults.syncWaitSeconds,
      maxSyncWaiters: serviceDefaults.maxSyncWaiters,
      maxSourceBytes: serviceDefaults.maxSourceBytes,
      maxDeliverySeconds: serviceDefaults.maxDeliverySeconds,
      secretStore: { kind: 'secrets-manager' },
      allowPrivateNetworks: false,
      queueUrls: {},
      destinationFunctions: {},
    });
  });

  it('fails at cold start when a physical name is missing', () => {
    const { UD_TABLE_NAME: _table, ...environment } = serviceEnvironment(deployed);

    expect(() => readConfig(environment)).toThrow('UD_TABLE_NAME is required');
  });

  it('writes JSON settings with the encoder it is given (CDK tokens in the stack)', () => {
    const environment = serviceEnvironment({ ...deployed, queueUrls: { s3: 'q' } }, () => 'ENCODED');

    expect(environment.UD_QUEUE_URLS).toBe('ENCODED');
  });
});
