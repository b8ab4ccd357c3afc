import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
// cdk-nag names a wildcard finding after the resource flattened by this function; using the same
// one keeps the acknowledgements in step with the findings.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';

/**
 * Acknowledges, on `scope` and its children, the cdk-nag AwsSolutions-IAM5 findings that the
 * wildcards of `statements` cause, with `reason`. Only those wildcards: any other wildcard under
 * `scope` is still reported.
 */
export function acknowledgeWildcards(scope: IConstruct, statements: readonly iam.PolicyStatement[], reason: string): void {
  const stack = Stack.of(scope);
  const findings = statements.flatMap((statement) => [
    ...statement.actions.filter((action) => action.includes('*')).map((action) => `Action::${action}`),
    ...statement.resources
      .map((resource) => flattenCfnReference(stack.resolve(resource)))
      .filter((resource) => resource.includes('*'))
      .map((resource) => `Resource::${resource}`),
  ]);
  Validations.of(scope).acknowledge(...[...new Set(findings)].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason })));
}
