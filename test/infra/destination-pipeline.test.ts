import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { destinations } from '../../functions/destinations/registry.ts';
import { DestinationPipeline, type DestinationPipelineProps } from '../../infra/constructs/destination-pipeline.ts';
import type { StagingBucket } from '../../infra/constructs/staging-bucket.ts';
import { resourceNames } from '../../infra/resources.ts';
import { serviceDefaults } from '../../shared/config.ts';
import { sealingContextCondition } from './sealing-context.ts';
import { allowing, denying, inAnyOrder, logicalId, objectsOf, resourcesOf, statementsOfRole, synthesizeStack, type SynthesizedStack } from './synthesize.ts';

let deployed: SynthesizedStack;

beforeAll(() => {
  deployed = synthesizeStack();
});

function pipelineOf(type: string): DestinationPipeline {
  return deployed.stack.node.findChild(`Destination-${type}`) as DestinationPipeline;
}

describe('Construct: DestinationPipeline', () => {
  it('is instantiated once per registry entry, and only then', () => {
    // Assess
    const pipelines = deployed.stack.node.children.filter((child) => child instanceof DestinationPipeline);
    expect(pipelines.map((pipeline) => pipeline.destinationType)).toEqual(destinations.map((definition) => definition.type));
    deployed.template.resourceCountIs('AWS::Lambda::EventSourceMapping', destinations.length + 1);
  });

  describe.each(destinations.map((definition) => [definition.type, definition] as const))('for %s', (type, definition) => {
    it('has a queue that moves a message to its dead-letter queue after the default attempts', () => {
      const pipeline = pipelineOf(type);
      deployed.template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: resourceNames.destinationQueue(type),
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(pipeline.deadLetterQueue), 'Arn'] }, maxReceiveCount: serviceDefaults.maxAttempts },
      });
    });

    it('keeps a received message invisible six times the function timeout, within the SQS limit', () => {
      const queue = deployed.template.findResources('AWS::SQS::Queue', { Properties: { QueueName: resourceNames.destinationQueue(type) } });
      const visibilityTimeoutSeconds = Object.values(queue)[0]?.Properties.VisibilityTimeout as number;
      expect(visibilityTimeoutSeconds).toBe(6 * definition.lambda.timeoutSeconds);
      expect(visibilityTimeoutSeconds).toBeLessThanOrEqual(12 * 60 * 60);
    });

    it('lets its dead-letter queue be redriven back to its queue alone', () => {
      deployed.template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: resourceNames.destinationDeadLetterQueue(type),
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 60 * 60,
        RedriveAllowPolicy: {
          redrivePermission: 'byQueue',
          sourceQueueArns: [
            {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sqs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resourceNames.destinationQueue(type)}`]],
            },
          ],
        },
      });
    });

    it('refuses requests to both queues without TLS', () => {
      const pipeline = pipelineOf(type);
      for (const queue of [pipeline.queue, pipeline.deadLetterQueue]) {
        deployed.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: logicalId(queue) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });

    it('raises an alarm as soon as a message reaches the dead-letter queue', () => {
      deployed.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(pipelineOf(type).deadLetterQueue), 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
      });
    });

    it('runs its handler on Node.js 22, arm64, with the registry sizing', () => {
      deployed.template.hasResourceProperties('AWS::Lambda::Function', {
        Role: { 'Fn::GetAtt': [logicalId(pipelineOf(type).function.role), 'Arn'] },
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: definition.lambda.memoryMb,
        Timeout: definition.lambda.timeoutSeconds,
        Environment: {
          Variables: {
            UD_TABLE_NAME: { Ref: Match.stringLikeRegexp('^JobTable') },
            UD_STAGING_BUCKET: { Ref: Match.stringLikeRegexp('^StagingBucket') },
            UD_KMS_KEY_ID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SealingKey'), 'Arn'] },
            UD_SECRET_PREFIX: resourceNames.secretPrefix,
            UD_MAX_ATTEMPTS: String(serviceDefaults.maxAttempts),
            UD_RETENTION_DAYS: '30',
            UD_ALLOWED_SOURCE_HOSTS: '',
          },
        },
      });
    });

    it('consumes its queue one message at a time, reporting partial batch failures, capped at the registry concurrency', () => {
      const pipeline = pipelineOf(type);
      deployed.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(pipeline.queue), 'Arn'] },
        FunctionName: { Ref: logicalId(pipeline.function) },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: definition.lambda.maxConcurrency },
      });
    });

    it('may receive from its own queue only, and send only to it (a delivery waiting for a quota)', () => {
      const pipeline = pipelineOf(type);
      const statements = statementsOfRole(deployed.template, logicalId(pipeline.function.role));
      expect(allowing(statements, 'sqs:ReceiveMessage').map((statement) => statement.Resource)).toEqual([
        { 'Fn::GetAtt': [logicalId(pipeline.queue), 'Arn'] },
      ]);
      expect(allowing(statements, 'sqs:SendMessage').map((statement) => statement.Resource)).toEqual([
        { 'Fn::GetAtt': [logicalId(pipeline.queue), 'Arn'] },
      ]);
    });

    it('may read the callers\' credentials and the callback signing key, and no other secret', () => {
      const statements = statementsOfRole(deployed.template, logicalId(pipelineOf(type).function.role));
      const readable = allowing(statements, 'secretsmanager:GetSecretValue').flatMap((statement) => statement.Resource);
      expect(readable).toContainEqual({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':secret:upload-destinations/credentials/*']],
      });
      expect(readable).toContainEqual({ Ref: logicalId(deployed.stack.node.findChild('CallbackSigningKey')) });
      expect(readable).toHaveLength(definition.applicationSecret ? 3 : 2);
      expect(JSON.stringify(readable)).not.toContain(':secret:upload-destinations/*');
    });

    it('may read the staging bucket, read and write the job table, and only decrypt with the sealing key', () => {
      const statements = statementsOfRole(deployed.template, logicalId(pipelineOf(type).function.role));
      const stagingBucket = (deployed.stack.node.findChild('Staging') as StagingBucket).bucket;
      expect(allowing(statements, 's3:PutObject').map((statement) => statement.Resource)).not.toContainEqual(
        expect.objectContaining({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stagingBucket), 'Arn'] }, '/*']] }),
      );
      expect(allowing(statements, 'dynamodb:UpdateItem').map((statement) => statement.Resource)).toEqual([
        { 'Fn::GetAtt': [logicalId(deployed.stack.node.findChild('JobTable')), 'Arn'] },
      ]);
      expect(allowing(statements, 'kms:Decrypt')).toHaveLength(1);
      expect(allowing(statements, 'kms:Encrypt')).toEqual([]);
      expect(allowing(statements, 'kms:GenerateDataKey')).toHaveLength(definition.capabilities?.resumable?.sealed ? 1 : 0);
    });

    it('reads staged sources only (presigned uploads and drops), never a manifest, which may hold inline secrets in clear', () => {
      const statements = statementsOfRole(deployed.template, logicalId(pipelineOf(type).function.role));
      const stagingBucket = (deployed.stack.node.findChild('Staging') as StagingBucket).bucket;
      expect(resourcesOf(allowing(statements, 's3:GetObject'))).toEqual(inAnyOrder([objectsOf(stagingBucket, 'uploads/*'), objectsOf(stagingBucket, 'drop/*')]));
      expect(resourcesOf(denying(statements, 's3:GetObject'))).toEqual([objectsOf(stagingBucket, 'drop/*.upload.json')]);
    });

    it('may use the sealing key only under the encryption context the sealer sends', async () => {
      const condition = await sealingContextCondition();
      const statements = statementsOfRole(deployed.template, logicalId(pipelineOf(type).function.role));
      const keyUses = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('kms:')));
      expect(keyUses.length).toBeGreaterThan(0);
      for (const statement of keyUses) expect(statement).toMatchObject({ Effect: 'Allow', Condition: condition });
    });
  });

  it('lets the S3 function write to any bucket, in a policy of its own, for bucket-policy mode', () => {
    const pipeline = pipelineOf('s3');
    deployed.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(pipeline.function.role) }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:AbortMultipartUpload', 's3:GetBucketAcl', 's3:ListBucketMultipartUploads', 's3:ListMultipartUploadParts', 's3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging'],
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::*']] },
          },
        ],
      },
    });
  });
});

describe('Bucket-policy mode confined to customers\' buckets', () => {
  function denials(stack: SynthesizedStack['stack'], template: SynthesizedStack['template']) {
    return destinations.map((definition) => {
      const pipeline = stack.node.findChild(`Destination-${definition.type}`) as DestinationPipeline;
      return statementsOfRole(template, logicalId(pipeline.function.role)).filter(
        (statement) => statement.Effect === 'Deny' && [statement.Action].flat().includes('s3:PutObject'),
      );
    });
  }

  it("denies every destination function writes into its own account's buckets", () => {
    for (const statements of denials(deployed.stack, deployed.template)) {
      expect(statements).toEqual([
        expect.objectContaining({ Resource: '*', Condition: { StringEquals: { 'aws:ResourceAccount': { Ref: 'AWS::AccountId' } } } }),
      ]);
    }
  });

  it('lets the buckets an operator lists be written, and no other of the account', () => {
    const { stack, template } = synthesizeStack({ ownAccountBuckets: ['our-public-renders'] });

    for (const statements of denials(stack, template)) {
      expect(statements).toEqual([
        expect.objectContaining({
          NotResource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::our-public-renders/*']] },
          Condition: { StringEquals: { 'aws:ResourceAccount': { Ref: 'AWS::AccountId' } } },
        }),
      ]);
    }
  });
});

describe("role_arn confined to other accounts' roles", () => {
  it("denies every destination function assuming a role of its own account, whose trust policy may trust the account's identities without an external id", () => {
    for (const definition of destinations) {
      const pipeline = pipelineOf(definition.type);
      const statements = statementsOfRole(deployed.template, logicalId(pipeline.function.role));
      expect(resourcesOf(denying(statements, 'sts:AssumeRole')), definition.type).toEqual([
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/*']] },
      ]);
    }
  });
});

describe('Staged sources the operator allows', () => {
  it('lets every destination function read the staging prefixes the operator allows as sources, and no others', () => {
    const { stack, template } = synthesizeStack({ stagingSourcePrefixes: ['renders/'] });
    const stagingBucket = (stack.node.findChild('Staging') as StagingBucket).bucket;
    for (const definition of destinations) {
      const pipeline = stack.node.findChild(`Destination-${definition.type}`) as DestinationPipeline;
      expect(resourcesOf(allowing(statementsOfRole(template, logicalId(pipeline.function.role)), 's3:GetObject'))).toEqual(
        inAnyOrder([objectsOf(stagingBucket, 'uploads/*'), objectsOf(stagingBucket, 'drop/*'), objectsOf(stagingBucket, 'renders/*')]),
      );
    }
  });
});

describe('Stack props: per-destination settings', () => {
  it('overrides a destination concurrency and the attempts before dead-lettering', () => {
    // Prepare
    const [first] = destinations;
    // Act
    const { stack, template } = synthesizeStack({ concurrency: { [first.type]: 7 }, maxAttempts: 3 });
    // Assess
    const pipeline = stack.node.findChild(`Destination-${first.type}`) as DestinationPipeline;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(pipeline.queue), 'Arn'] },
      ScalingConfig: { MaximumConcurrency: 7 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: resourceNames.destinationQueue(first.type),
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
  });
});

describe('Construct: DestinationPipeline validation', () => {
  function build(overrides: Partial<DestinationPipelineProps>): () => DestinationPipeline {
    // No bundling: these tests are about the props, and the valid one has no handler of its own.
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Validation');
    const props: DestinationPipelineProps = {
      destinationType: 'example',
      memoryMb: 256,
      timeoutSeconds: 60,
      maxConcurrency: 5,
      jobTable: dynamodb.Table.fromTableName(stack, 'Table', 'jobs'),
      stagingBucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'staging'),
      sealingKey: kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000'),
      secretPrefix: 'upload-destinations/',
      callbackSigningSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Signing', 'upload-destinations/callback-signing-key'),
      ...overrides,
    };
    return () => new DestinationPipeline(stack, 'Pipeline', props);
  }

  it('fails when maxConcurrency is below 2, the SQS event source minimum', () => {
    expect(build({ maxConcurrency: 1 })).toThrow("DestinationPipeline 'example': maxConcurrency must be an integer from 2 to 1000, got 1");
  });

  it('fails when maxConcurrency is above 1000', () => {
    expect(build({ maxConcurrency: 1001 })).toThrow(/maxConcurrency must be an integer from 2 to 1000, got 1001/);
  });

  it('fails when timeoutSeconds exceeds the Lambda limit', () => {
    expect(build({ timeoutSeconds: 901 })).toThrow(/timeoutSeconds must be an integer from 1 to 900, got 901/);
  });

  it('fails when batchSize exceeds 10', () => {
    expect(build({ batchSize: 11 })).toThrow(/batchSize must be an integer from 1 to 10, got 11/);
  });

  it('fails when destinationType cannot name a queue', () => {
    expect(build({ destinationType: 'Not A Type' })).toThrow(/destinationType must be lower-case letters, digits and hyphens, got 'Not A Type'/);
  });

  it('fails when a permission comes without a reason', () => {
    expect(build({ permissions: [{ actions: ['s3:PutObject'], resources: ['*'], reason: ' ' }] })).toThrow(/every permission needs actions, resources and a reason/);
  });

  it('fails when maxReceiveCount is zero', () => {
    expect(build({ maxReceiveCount: 0 })).toThrow(/maxReceiveCount must be an integer from 1 to 1000, got 0/);
  });

  it('builds with valid props', () => {
    expect(build({ entry: `functions/destinations/${destinations[0].type}/handler.ts` })).not.toThrow();
  });
});
