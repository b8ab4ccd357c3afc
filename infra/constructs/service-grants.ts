import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Lets `grantee` read the Secrets Manager secrets whose names start with `prefix` (the
 * `credentials` references and the callback signing key), and no other secret.
 */
export function grantReadSecretsUnder(grantee: iam.IGrantable & { readonly stack: Stack }, prefix: string): iam.Grant {
  const secretsUnderPrefix = grantee.stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${prefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  return iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [secretsUnderPrefix] });
}
