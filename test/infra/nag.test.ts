import { Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Ingress } from '../../infra/constructs/ingress.ts';
import { synthesizeStack, type SynthesizedStack } from './synthesize.ts';

let deployed: SynthesizedStack;

beforeAll(() => {
  deployed = synthesizeStack();
});

/** Rule IDs of the cdk-nag AwsSolutions findings (errors and warnings) that nobody acknowledged. */
function unacknowledgedFindings(scope: IConstruct): string[] {
  return new AwsSolutionsChecks().validateScope(scope).violations.map((violation) => violation.ruleName);
}

/** Every acknowledgement in the app: rule ID → reason. */
function acknowledgements(scope: IConstruct): Map<string, string> {
  const found = new Map<string, string>();
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) found.set(id.replace(/^annotation::/i, ''), reason);
    }
  }
  return found;
}

describe('cdk-nag AwsSolutions', () => {
  it('has no finding left unacknowledged, error or warning', () => {
    expect(unacknowledgedFindings(deployed.app)).toEqual([]);
  });

  it('leaves no CDK error or warning annotations', () => {
    const annotations = Annotations.fromStack(deployed.stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('justifies each acknowledgement in a sentence', () => {
    const found = acknowledgements(deployed.app);
    expect(found.size).toBeGreaterThan(0);
    for (const [id, reason] of found) {
      expect(id).toMatch(/^AwsSolutions-/);
      expect(reason.length, id).toBeGreaterThan(40);
    }
  });

  it('acknowledges exactly these findings, each as narrowly as the rule allows', () => {
    expect([...acknowledgements(deployed.app).keys()].map((id) => id.replace(/<(\w+?)[0-9A-F]{8}\.Arn>/, '<$1.Arn>')).sort()).toEqual(
      [
        'AwsSolutions-APIG2',
        'AwsSolutions-APIG4',
        'AwsSolutions-COG4',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'AwsSolutions-IAM5[Resource::*]',
        // The staging bucket by prefix, never as a whole: sources, presigned uploads, job notes, manifests.
        'AwsSolutions-IAM5[Resource::<StagingBucket.Arn>/uploads/*]',
        'AwsSolutions-IAM5[Resource::<StagingBucket.Arn>/drop/*]',
        'AwsSolutions-IAM5[Resource::<StagingBucket.Arn>/drop/*.upload-job.json]',
        'AwsSolutions-IAM5[Resource::<StagingBucket.Arn>/drop/*.upload.json]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:upload-destinations/credentials/*]',
        // Secrets Manager adds a random suffix to a secret's ARN: the YouTube OAuth client's name ends in *.
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:upload-destinations/application/youtube*]',
        // Secrets Manager adds a random suffix to a secret's ARN: the Dropbox app's name ends in *.
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:upload-destinations/application/dropbox*]',
        'AwsSolutions-L1',
        'AwsSolutions-SMG4',
        'AwsSolutions-SQS3',
      ].sort(),
    );
  });

  it('still reports a wildcard that nobody acknowledged', () => {
    // Prepare
    const { app, stack } = synthesizeStack();
    const ingress = stack.node.findChild('Ingress') as Ingress;
    // Act
    ingress.function.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:*'], resources: ['*'] }));
    // Assess: Resource::* is acknowledged on this role (for s3:ListAllMyBuckets), the new action is not.
    expect(unacknowledgedFindings(app)).toEqual(['AwsSolutions-IAM5[Action::sqs:*]']);
  });
});
