import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** Credentials that expire are read again this long before, as the SDK's default chain does. */
const refreshBeforeExpiryMs = 5 * 60_000;

/**
 * The role's keys as the Lambda runtime hands them to every function: in the environment, under the
 * names the SDK's `fromEnv` reads. Read here rather than through `@aws-sdk/credential-provider-env`,
 * whose module graph brings the SDK's whole config package (profile-file parsing, `fs/promises`,
 * `os`) into every bundle for one error class, and costs each cold start its import.
 */
function environmentCredentials(): AwsCredentialIdentity {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error('Unable to find environment variable credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).');
  const sessionToken = process.env.AWS_SESSION_TOKEN;
  const expiration = process.env.AWS_CREDENTIAL_EXPIRATION;
  const credentialScope = process.env.AWS_CREDENTIAL_SCOPE;
  const accountId = process.env.AWS_ACCOUNT_ID;
  return {
    accessKeyId,
    secretAccessKey,
    ...(sessionToken && { sessionToken }),
    ...(expiration && { expiration: new Date(expiration) }),
    ...(credentialScope && { credentialScope }),
    ...(accountId && { accountId }),
  };
}

/**
 * The AWS SDK's default credential chain as a Lambda function needs it: the runtime hands every
 * function its role's keys in the environment, where the chain looks first, and nothing further down
 * it (profile files, SSO, web identity, the instance metadata service) can answer there. The
 * function bundles put this module in place of `@aws-sdk/credential-provider-node` (see
 * infra/function-bundle.ts), which leaves out the chain's nested clients: about 90 KiB of every
 * bundle, parsed at every cold start. The local runtime runs the bundles too; tests that import
 * the modules themselves get the real chain.
 *
 * Like the chain, a provider keeps what it read (every signed request asks it), until five minutes
 * before the credentials' expiration when they carry one; a failed read is not kept.
 */
export function defaultProvider(): AwsCredentialIdentityProvider {
  let kept: AwsCredentialIdentity | undefined;
  return async () => {
    const expiration = kept?.expiration?.getTime();
    if (!kept || (expiration !== undefined && expiration - Date.now() <= refreshBeforeExpiryMs)) kept = environmentCredentials();
    return kept;
  };
}
