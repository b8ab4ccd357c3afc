import { fromEnv } from '@aws-sdk/credential-provider-env';

type Credentials = Awaited<ReturnType<ReturnType<typeof fromEnv>>>;

/** Credentials that expire are read again this long before, as the SDK's default chain does. */
const refreshBeforeExpiryMs = 5 * 60_000;

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
export const defaultProvider: typeof fromEnv = (init) => {
  const read = fromEnv(init);
  let kept: Credentials | undefined;
  return async () => {
    const expiration = kept?.expiration?.getTime();
    if (kept && (expiration === undefined || expiration - Date.now() > refreshBeforeExpiryMs)) return kept;
    kept = await read();
    return kept;
  };
};
