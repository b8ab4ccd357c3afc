import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * The AWS SDK's default credential chain as a Lambda function needs it: the runtime hands every
 * function its role's keys in the environment, where the chain looks first, and nothing further down
 * it (profile files, SSO, web identity, the instance metadata service) can answer there. The
 * function bundles put this module in place of `@aws-sdk/credential-provider-node` (see
 * infra/function-bundle.ts), which leaves out the chain's nested clients: about 90 KiB of every
 * bundle, parsed at every cold start. Locally and in tests the real chain is used.
 */
export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
