import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { destinations } from '../../functions/destinations/registry.ts';
import type { DestinationPipeline } from '../../infra/constructs/destination-pipeline.ts';
import type { Ingress } from '../../infra/constructs/ingress.ts';
import type { StagingBucket } from '../../infra/constructs/staging-bucket.ts';
import { resourceNames } from '../../infra/resources.ts';
import { serviceDefaults } from '../../shared/config.ts';
import { sealingContextCondition } from './sealing-context.ts';
import { allowing, inAnyOrder, logicalId, objectsOf, resourcesOf, statementsOfRole, synthesizeStack, type SynthesizedStack } from './synthesize.ts';

let deployed: SynthesizedStack;
let ingress: Ingress;
let stagingBucketId: string;

beforeAll(() => {
  deployed = synthesizeStack();
  ingress = deployed.stack.node.findChild('Ingress') as Ingress;
  stagingBucketId = logicalId((deployed.stack.node.findChild('Staging') as StagingBucket).bucket);
});

/** The ingress function's CloudFormation properties. */
function ingressFunction(): { Timeout: number; Runtime: string; Architectures: string[]; ReservedConcurrentExecutions: number; Environment: { Variables: Record<string, unknown> } } {
  const [resource] = Object.values(
    deployed.template.findResources('AWS::Lambda::Function', { Properties: { Role: { 'Fn::GetAtt': [logicalId(ingress.function.role), 'Arn'] } } }),
  );
  return resource?.Properties;
}

/** Renders an `Fn::Join` of strings and `{ Ref }`s, each Ref as `<logical ID>`. */
function renderJoin(value: unknown): string {
  const [delimiter, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts.map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`)).join(delimiter);
}

describe('Construct: Ingress', () => {
  it('may invoke each destination function (to test a destination), knows them by type, and may invoke nothing else', () => {
    // Prepare
    const pipelines = destinations.map((definition) => deployed.stack.node.findChild(`Destination-${definition.type}`) as DestinationPipeline);
    const statements = statementsOfRole(deployed.template, logicalId(ingress.function.role));

    // Act
    const invokable = allowing(statements, 'lambda:InvokeFunction').flatMap((statement) => statement.Resource);
    const functionNames: unknown = JSON.parse(renderJoin(ingressFunction().Environment.Variables.UD_DESTINATION_FUNCTIONS));

    // Assess
    const expected = pipelines.map((pipeline) => ({ 'Fn::GetAtt': [logicalId(pipeline.function), 'Arn'] }));
    expect(invokable).toHaveLength(expected.length);
    expect(invokable).toEqual(expect.arrayContaining(expected));
    expect(functionNames).toEqual(Object.fromEntries(pipelines.map((pipeline) => [pipeline.destinationType, `<${logicalId(pipeline.function)}>`])));
  });

  it('may query the job listing index and no other index', () => {
    const statements = statementsOfRole(deployed.template, logicalId(ingress.function.role));

    const queryable = allowing(statements, 'dynamodb:Query').flatMap((statement) => statement.Resource);

    expect(queryable).toEqual([
      { 'Fn::GetAtt': [logicalId(deployed.stack.node.findChild('JobTable')), 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(deployed.stack.node.findChild('JobTable')), 'Arn'] }, '/index/jobs-by-time']] },
    ]);
  });

  it('runs on Node.js 22, arm64, and knows every destination queue by type', () => {
    const properties = ingressFunction();
    expect(properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    expect(properties.Environment.Variables).toMatchObject({ UD_SYNC_WAIT_SECONDS: '25', UD_SECRET_PREFIX: resourceNames.secretPrefix });
    const queueUrls: unknown = JSON.parse(renderJoin(properties.Environment.Variables.UD_QUEUE_URLS));
    expect(queueUrls).toEqual(
      Object.fromEntries(
        destinations.map((definition) => [
          definition.type,
          `<${logicalId((deployed.stack.node.findChild(`Destination-${definition.type}`) as DestinationPipeline).queue)}>`,
        ]),
      ),
    );
  });

  it("knows the account it is deployed in, whose roles it refuses as a destination's role_arn", () => {
    expect(ingressFunction().Environment.Variables.UD_ACCOUNT_ID).toEqual({ Ref: 'AWS::AccountId' });
  });

  it('answers within the API Gateway limit of 29 seconds, leaving room after the synchronous wait', () => {
    const properties = ingressFunction();
    expect(properties.Timeout).toBeLessThanOrEqual(29);
    expect(Number(properties.Environment.Variables.UD_SYNC_WAIT_SECONDS)).toBeLessThan(properties.Timeout);
  });

  describe('door: inbox queue', () => {
    it('has a named inbox queue with its dead-letter queue, redrivable back', () => {
      deployed.template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: resourceNames.inboxQueue,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(ingress.inboxDeadLetterQueue), 'Arn'] }, maxReceiveCount: serviceDefaults.maxAttempts },
      });
      deployed.template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: resourceNames.inboxDeadLetterQueue,
        RedriveAllowPolicy: { redrivePermission: 'byQueue', sourceQueueArns: Match.anyValue() },
      });
    });

    it('keeps an inbox message invisible six times the ingress timeout', () => {
      deployed.template.hasResourceProperties('AWS::SQS::Queue', { QueueName: resourceNames.inboxQueue, VisibilityTimeout: 6 * ingressFunction().Timeout });
    });

    it('feeds the ingress with partial batch failures reported', () => {
      deployed.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(ingress.inboxQueue), 'Arn'] },
        FunctionName: { Ref: logicalId(ingress.function) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('raises an alarm when a message reaches the inbox dead-letter queue', () => {
      deployed.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(ingress.inboxDeadLetterQueue), 'QueueName'] } }],
        Threshold: 0,
      });
    });
  });

  describe('door: staging bucket', () => {
    it('invokes the ingress for objects created under the presigned-upload and drop prefixes only', () => {
      const notified = (prefix: string) => ({
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } },
        LambdaFunctionArn: { 'Fn::GetAtt': [logicalId(ingress.function), 'Arn'] },
      });
      deployed.template.hasResourceProperties('Custom::S3BucketNotifications', {
        BucketName: { Ref: stagingBucketId },
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [notified('uploads/'), notified('drop/')],
        },
      });
      deployed.template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 's3.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [logicalId(ingress.function), 'Arn'] },
        SourceArn: { 'Fn::GetAtt': [stagingBucketId, 'Arn'] },
      });
    });

    it('keeps events that failed every asynchronous attempt in a queue with an alarm', () => {
      deployed.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(ingress.function) },
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(ingress.failedEventsQueue), 'Arn'] } } },
      });
      deployed.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(ingress.failedEventsQueue), 'QueueName'] } }],
      });
    });
  });

  describe('permissions', () => {
    it('is the one function that may send to every destination queue; each destination function sends only to its own', () => {
      const pipelines = destinations.map((definition) => deployed.stack.node.findChild(`Destination-${definition.type}`) as DestinationPipeline);
      const roles = Object.keys(deployed.template.findResources('AWS::IAM::Role'));
      for (const pipeline of pipelines) {
        const senders = roles.filter((roleId) =>
          allowing(statementsOfRole(deployed.template, roleId), 'sqs:SendMessage').some((statement) =>
            JSON.stringify(statement.Resource).includes(`"${logicalId(pipeline.queue)}"`),
          ),
        );
        expect(senders.sort()).toEqual([logicalId(ingress.function.role), logicalId(pipeline.function.role)].sort());
      }
    });

    it('has concurrency of its own, capped, so waiting requests cannot take what the destinations need', () => {
      expect(ingressFunction().ReservedConcurrentExecutions).toBe(100);
    });

    it('may take data keys to seal, and neither encrypt with the key nor unseal', () => {
      const statements = statementsOfRole(deployed.template, logicalId(ingress.function.role));
      expect(allowing(statements, 'kms:GenerateDataKey')).toHaveLength(1);
      expect(allowing(statements, 'kms:Encrypt')).toEqual([]);
      expect(allowing(statements, 'kms:Decrypt')).toEqual([]);
    });

    it('may read staged sources and manifests, presign uploads, write job notes and delete manifests, and nothing else of the staging bucket', () => {
      const statements = statementsOfRole(deployed.template, logicalId(ingress.function.role));
      const stagingBucket = (deployed.stack.node.findChild('Staging') as StagingBucket).bucket;
      const resourcesAllowed = (action: string) => resourcesOf(allowing(statements, action));
      expect(resourcesAllowed('s3:GetObject')).toEqual(inAnyOrder([objectsOf(stagingBucket, 'uploads/*'), objectsOf(stagingBucket, 'drop/*')]));
      expect(resourcesAllowed('s3:PutObject')).toEqual(inAnyOrder([objectsOf(stagingBucket, 'uploads/*'), objectsOf(stagingBucket, 'drop/*.upload-job.json')]));
      expect(resourcesAllowed('s3:DeleteObject')).toEqual([objectsOf(stagingBucket, 'drop/*.upload.json')]);
    });

    it('may read the staging prefixes the operator allows as sources', () => {
      const { stack, template } = synthesizeStack({ stagingSourcePrefixes: ['renders/'] });
      const withPrefixes = stack.node.findChild('Ingress') as Ingress;
      const stagingBucket = (stack.node.findChild('Staging') as StagingBucket).bucket;
      expect(resourcesOf(allowing(statementsOfRole(template, logicalId(withPrefixes.function.role)), 's3:GetObject'))).toEqual(
        inAnyOrder([objectsOf(stagingBucket, 'uploads/*'), objectsOf(stagingBucket, 'drop/*'), objectsOf(stagingBucket, 'renders/*')]),
      );
    });

    it('may take data keys only under the encryption context the sealer sends', async () => {
      const statements = statementsOfRole(deployed.template, logicalId(ingress.function.role));
      expect(allowing(statements, 'kms:GenerateDataKey')).toEqual([expect.objectContaining({ Condition: await sealingContextCondition() })]);
    });

    it('may list the account buckets to report the canonical user ID', () => {
      const statements = statementsOfRole(deployed.template, logicalId(ingress.function.role));
      expect(allowing(statements, 's3:ListAllMyBuckets').map((statement) => statement.Resource)).toEqual(['*']);
    });

    it('may read no secret: it neither signs callbacks nor opens credentials', () => {
      const statements = statementsOfRole(deployed.template, logicalId(ingress.function.role));
      expect(allowing(statements, 'secretsmanager:GetSecretValue')).toEqual([]);
    });
  });
});
