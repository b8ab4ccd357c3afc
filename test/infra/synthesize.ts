import { readFileSync } from 'node:fs';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { UploadDestinationsStack, type UploadDestinationsStackProps } from '../../infra/stack.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

export interface SynthesizedStack {
  readonly app: App;
  readonly stack: UploadDestinationsStack;
  readonly template: Template;
}

/**
 * Synthesizes the stack with cdk.json's feature flags, as `cdk synth` does. Bundling the functions
 * with esbuild does not change the template, so it runs only when `bundle` asks for it.
 */
export function synthesizeStack(props: UploadDestinationsStackProps = {}, { bundle = false } = {}): SynthesizedStack {
  const app = new App({
    context: { ...cdkJson.context, ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const stack = new UploadDestinationsStack(app, 'UploadDestinations', props);
  return { app, stack, template: Template.fromStack(stack) };
}

/** The logical ID of a construct's CloudFormation resource, for `{ Ref }` and `Fn::GetAtt` matches. */
export function logicalId(construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(resource as CfnElement);
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every statement of every IAM policy attached to the role whose logical ID is `roleId`. */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<
    string,
    { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }
  >;
  return Object.values(policies)
    .filter((policy) => policy.Properties.Roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** The statements of `statements` that allow `action`. */
export function allowing(statements: readonly Statement[], action: string): Statement[] {
  return statements.filter((statement) => statement.Effect === 'Allow' && [statement.Action].flat().includes(action));
}

/** The statements of `statements` that deny `action`. */
export function denying(statements: readonly Statement[], action: string): Statement[] {
  return statements.filter((statement) => statement.Effect === 'Deny' && [statement.Action].flat().includes(action));
}

/** The resources of `statements`, in an order of their own: CDK sorts a statement's resources. */
export function resourcesOf(statements: readonly Statement[]): unknown[] {
  return inAnyOrder(statements.flatMap((statement) => [statement.Resource].flat()));
}

/** `values` in a stable order, to compare with {@link resourcesOf}. */
export function inAnyOrder(values: readonly unknown[]): unknown[] {
  return [...values].sort((one, other) => JSON.stringify(one).localeCompare(JSON.stringify(other)));
}

/** The ARN of the objects of `bucket` whose keys match `keys`, as the template writes it. */
export function objectsOf(bucket: IConstruct, keys: string): unknown {
  return { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(bucket), 'Arn'] }, `/${keys}`]] };
}
