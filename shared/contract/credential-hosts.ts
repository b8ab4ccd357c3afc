import type { DestinationDefinition } from '../destination/definition.ts';
import { hostOf } from '../net/address-policy.ts';
import { hostMatches } from '../net/host-patterns.ts';

/**
 * The endpoints a destination would send its stored credentials (a `credentials` reference) to
 * that neither the destination nor the operator trusts with them: a request must not point a stored
 * secret at a host of its choosing and read the signed request there. Empty when the credentials
 * are inline, or the destination sends them anywhere.
 */
export function untrustedCredentialEndpoints(
  definition: Pick<DestinationDefinition, 'credentialHosts' | 'endpointsOf'>,
  destination: Readonly<Record<string, unknown>>,
  operatorHosts: readonly string[],
): { readonly field: string; readonly message: string }[] {
  if (typeof destination.credentials !== 'string' || definition.credentialHosts === undefined) return [];
  const trusted = [...definition.credentialHosts, ...operatorHosts];
  return definition
    .endpointsOf(destination)
    .filter(({ address }) => !hostMatches(hostOf(address), trusted))
    .map(({ field }) => ({
      field,
      message: `stored credentials are sent only to ${trusted.join(', ')}; give the credentials inline, or ask the operator to allow this host (credentialHosts)`,
    }));
}
