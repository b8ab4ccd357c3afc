import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StagingBucket } from '../../infra/constructs/staging-bucket.ts';
import { resourceNames } from '../../infra/resources.ts';
import { secretNames } from '../../shared/config.ts';
import { stackPropsFromContext } from '../../infra/stack.ts';
import { logicalId, synthesizeStack, type SynthesizedStack } from './synthesize.ts';

let deployed: SynthesizedStack;
let staging: StagingBucket;

beforeAll(() => {
  deployed = synthesizeStack({ retentionDays: 12, allowedSourceHosts: ['cdn.example.com', 'renders.example.org'], maxSourceBytes: 1_073_741_824, maxSyncWaiters: 5 });
  staging = deployed.stack.node.findChild('Staging') as StagingBucket;
});

describe('Stack: UploadDestinations', () => {
  describe('job table', () => {
    it('is keyed by token and item, on demand, with TTL, point-in-time recovery and encryption', () => {
      deployed.template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: resourceNames.table,
        KeySchema: [
          { AttributeName: 'token', KeyType: 'HASH' },
          { AttributeName: 'item', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'token', AttributeType: 'S' },
          { AttributeName: 'item', AttributeType: 'S' },
          { AttributeName: 'listPartition', AttributeType: 'S' },
          { AttributeName: 'listSort', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    });

    it('lists jobs through a sparse, keys-only index by month shard and time, as the local table does', () => {
      deployed.template.hasResourceProperties('AWS::DynamoDB::Table', {
        GlobalSecondaryIndexes: [
          {
            IndexName: 'jobs-by-time',
            KeySchema: [
              { AttributeName: 'listPartition', KeyType: 'HASH' },
              { AttributeName: 'listSort', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      });
    });

    it('outlives the stack', () => {
      deployed.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    it('cannot be deleted outside the stack either (console, API) without turning deletion protection off first', () => {
      deployed.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: resourceNames.table, DeletionProtectionEnabled: true });
    });
  });

  it('has a sealing key that rotates', () => {
    deployed.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('generates the callback signing key, as the key field of a JSON secret under the prefix', () => {
    deployed.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: `${resourceNames.secretPrefix}${secretNames.callbackSigningKey}`,
      GenerateSecretString: { SecretStringTemplate: '{}', GenerateStringKey: 'key', PasswordLength: 64, ExcludePunctuation: true },
    });
  });

  describe('staging bucket', () => {
    it('is encrypted, private and named per account and region', () => {
      deployed.template.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: { 'Fn::Join': ['', [`${resourceNames.stagingBucket}-`, { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]] },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(staging.accessLogsBucket) }, LogFilePrefix: 'staging/' },
      });
    });

    it('aborts unfinished multipart uploads after a day and expires sources after the retention days', () => {
      deployed.template.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: Match.anyValue(),
        LifecycleConfiguration: {
          Rules: [
            { Id: 'abort-incomplete-multipart-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
            { Id: 'expire-sources', ExpirationInDays: 12, Status: 'Enabled' },
          ],
        },
      });
    });

    it.each([
      ['staging bucket', () => staging.bucket],
      ['access log bucket', () => staging.accessLogsBucket],
    ])('refuses requests without TLS to the %s', (_name, bucket) => {
      deployed.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalId(bucket()) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });
  });

  it('gives every function the operator settings', () => {
    const functions = deployed.template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs22.x' } });
    expect(Object.keys(functions).length).toBeGreaterThan(1);
    for (const resource of Object.values(functions)) {
      expect(resource.Properties.Environment.Variables).toMatchObject({
        UD_RETENTION_DAYS: '12',
        UD_ALLOWED_SOURCE_HOSTS: 'cdn.example.com,renders.example.org',
        UD_MAX_SOURCE_BYTES: '1073741824',
        UD_MAX_SYNC_WAITERS: '5',
      });
      for (const localOnly of ['UD_SECRETS_FILE', 'UD_LOCAL_KEY_FILE', 'UD_AWS_ENDPOINT', 'UD_ALLOW_PRIVATE_NETWORKS']) {
        expect(resource.Properties.Environment.Variables).not.toHaveProperty(localOnly);
      }
    }
  });

  describe('outputs', () => {
    it.each(['ApiUrl', 'ApiKeyId', 'InboxQueueUrl', 'InboxQueueArn', 'StagingBucketName', 'CanonicalUserIdCommand'])('outputs %s', (name) => {
      deployed.template.hasOutput(name, { Value: Match.anyValue(), Description: Match.anyValue() });
    });

    it('outputs the secret prefix', () => {
      deployed.template.hasOutput('SecretPrefix', { Value: resourceNames.secretPrefix });
    });

    it('tells how to get the canonical user ID from the API', () => {
      const output = deployed.template.findOutputs('CanonicalUserIdCommand').CanonicalUserIdCommand;
      expect(JSON.stringify(output?.Value)).toContain('/v1/canonical-user');
      expect(output?.Description).toContain('aws s3api list-buckets --query Owner.ID');
    });

    it('outputs these and nothing else (the API URL once)', () => {
      expect(Object.keys(deployed.template.findOutputs('*')).sort()).toEqual(
        ['ApiKeyId', 'ApiUrl', 'CanonicalUserIdCommand', 'InboxQueueArn', 'InboxQueueUrl', 'SecretPrefix', 'StagingBucketName'].sort(),
      );
    });
  });

  describe('props', () => {
    it('sends every dead-letter alarm to the operator topic when one is given', () => {
      // Prepare
      const alarmTopicArn = 'arn:aws:sns:eu-west-1:111111111111:upload-alarms';
      // Act
      const { template } = synthesizeStack({ alarmTopicArn });
      // Assess
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms.length).toBeGreaterThan(2);
      for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([alarmTopicArn]);
    });

    it('fails when concurrency names an unknown destination type', () => {
      expect(() => synthesizeStack({ concurrency: { carrier_pigeon: 2 } })).toThrow(/concurrency names unknown destination type 'carrier_pigeon'/);
    });

    it('fails when retentionDays is not a positive integer', () => {
      expect(() => synthesizeStack({ retentionDays: 0 })).toThrow(/retentionDays must be an integer from 1 to 36500, got 0/);
    });
  });
});

describe('Function: stackPropsFromContext', () => {
  function propsFrom(context: Record<string, unknown>) {
    return stackPropsFromContext(new App({ context }).node);
  }

  it('reads what an operator passes with -c, as strings', () => {
    expect(
      propsFrom({
        retentionDays: '7',
        maxAttempts: '3',
        concurrency: '{"s3": 10}',
        allowedSourceHosts: 'cdn.example.com, renders.example.org',
        stagingSourcePrefixes: 'renders/,exports/',
        ownAccountBuckets: 'team-archive',
        credentialHosts: '*.r2.cloudflarestorage.com',
        maxSourceBytes: '1073741824',
        ingressConcurrency: '20',
        maxSyncWaiters: '5',
        alarmTopicArn: 'arn:aws:sns:eu-west-1:111111111111:alarms',
      }),
    ).toEqual({
      retentionDays: 7,
      maxAttempts: 3,
      concurrency: { s3: 10 },
      allowedSourceHosts: ['cdn.example.com', 'renders.example.org'],
      stagingSourcePrefixes: ['renders/', 'exports/'],
      ownAccountBuckets: ['team-archive'],
      credentialHosts: ['*.r2.cloudflarestorage.com'],
      maxSourceBytes: 1_073_741_824,
      ingressConcurrency: 20,
      maxSyncWaiters: 5,
      alarmTopicArn: 'arn:aws:sns:eu-west-1:111111111111:alarms',
    });
  });

  it('reads numbers and objects from cdk.json', () => {
    expect(propsFrom({ retentionDays: 7, concurrency: { s3: 10 } })).toMatchObject({ retentionDays: 7, concurrency: { s3: 10 } });
  });

  it('leaves unset settings to the stack defaults', () => {
    expect(propsFrom({})).toEqual({
      retentionDays: undefined,
      maxAttempts: undefined,
      concurrency: undefined,
      allowedSourceHosts: undefined,
      alarmTopicArn: undefined,
    });
  });

  it('fails when a number is not an integer', () => {
    expect(() => propsFrom({ maxAttempts: 'many' })).toThrow("context maxAttempts must be an integer, got 'many'");
  });

  it('fails when concurrency is not a map of integers', () => {
    expect(() => propsFrom({ concurrency: '{"s3": "lots"}' })).toThrow(/context concurrency must be a JSON object of destination type → integer/);
    expect(() => propsFrom({ concurrency: '{s3: 2}' })).toThrow("got '{s3: 2}'");
  });
});
