import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { PermanentError } from '../../../shared/destination/index.ts';

/** STS clients by region, made once per function instance, with the service's own identity. */
const stsClients = new Map<string, STSClient>();

function stsClient(region: string): STSClient {
  let client = stsClients.get(region);
  if (!client) {
    client = new STSClient({ region });
    stsClients.set(region, client);
  }
  return client;
}

/**
 * The keys of a customer's role, as AWS's confused-deputy guidance has it: the service assumes the
 * role with the external id the role's trust policy requires, so a caller who names another
 * customer's role without that customer's external id gets nothing. The SDK asks again before the
 * keys expire (an hour).
 */
export function assumedRole(roleArn: string, externalId: string, region: string): AwsCredentialIdentityProvider {
  return async (): Promise<AwsCredentialIdentity> => {
    let answer;
    try {
      answer = await stsClient(region).send(
        new AssumeRoleCommand({ RoleArn: roleArn, ExternalId: externalId, RoleSessionName: 'upload-destinations', DurationSeconds: 3600 }),
      );
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'MalformedPolicyDocument') {
        throw new PermanentError(
          `role_arn: the service may not assume ${roleArn} (${name}): its trust policy must allow this service's account sts:AssumeRole with sts:ExternalId equal to external_id`,
          { code: 'AssumeRoleDenied', cause: error },
        );
      }
      throw error;
    }
    const keys = answer.Credentials;
    if (!keys?.AccessKeyId || !keys.SecretAccessKey) throw new Error(`STS gave no keys for ${roleArn}`);
    return {
      accessKeyId: keys.AccessKeyId,
      secretAccessKey: keys.SecretAccessKey,
      ...(keys.SessionToken ? { sessionToken: keys.SessionToken } : {}),
      ...(keys.Expiration ? { expiration: keys.Expiration } : {}),
    };
  };
}
