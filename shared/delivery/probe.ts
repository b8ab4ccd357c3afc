import { lookup } from 'node:dns/promises';
import type * as z from 'zod/mini';
import type { ProbeAnswer, ProbeCheckAnswer, ProbeEvent } from '../contract/probe.ts';
import { parseOrThrow } from '../contract/validate.ts';
import { describeError, ValidationError } from '../errors.ts';
import { addressRefusal, hostOf, hostRefusal } from '../net/address-policy.ts';
import { redactText } from '../net/redact.ts';
import { applicationSecret, checkCredentialHosts, checkEndpoints, resolveSecrets, storedCredentials, type DeliveryDependencies, type DestinationModule } from './runner.ts';

/** What a destination test needs of a delivery's dependencies. */
export type ProbeDependencies = Pick<DeliveryDependencies, 'secrets' | 'sealer' | 'network' | 'credentialHosts'> & {
  /** Resolves a host name to its addresses (DNS). @default the system resolver */
  readonly resolve?: (host: string) => Promise<readonly string[]>;
};

async function systemResolve(host: string): Promise<readonly string[]> {
  return (await lookup(host, { all: true })).map((answer) => answer.address);
}

/**
 * Where the destination's addresses lead, as a delivery's connections would find them: each name
 * resolved, and (when deployed) every address it resolves to checked against the network policy.
 */
async function networkCheck(addresses: readonly string[], allowPrivateNetworks: boolean, resolve: (host: string) => Promise<readonly string[]>): Promise<ProbeCheckAnswer> {
  const found: string[] = [];
  for (const host of new Set(addresses.map(hostOf))) {
    const named = allowPrivateNetworks ? undefined : hostRefusal(host);
    if (named !== undefined) return { name: 'network', ok: false, detail: `'${host}' is refused: ${named}` };
    let resolved: readonly string[];
    try {
      resolved = await resolve(host);
    } catch (error) {
      return { name: 'network', ok: false, detail: `'${host}' does not resolve: ${describeError(error)}` };
    }
    const refused = allowPrivateNetworks ? undefined : resolved.map((address) => ({ address, why: addressRefusal(address) })).find((entry) => entry.why);
    if (refused) return { name: 'network', ok: false, detail: `'${host}' resolves to ${refused.address}, which is refused: ${refused.why}` };
    found.push(`${host} → ${resolved.join(', ')}`);
  }
  const policy = allowPrivateNetworks ? 'private networks allowed (local runtime)' : 'every address public';
  return { name: 'network', ok: true, detail: `${found.join('; ') || 'no address to check'}: ${policy}` };
}

/**
 * Tests a destination the way its delivery would start, without delivering: its secrets (a stored
 * secret read, inline ones unsealed), its addresses (the network policy, the hosts stored
 * credentials may go to, DNS), then the destination's own probe, which writes a small object
 * under a reserved name and removes it, or asks who the credentials belong to. Each check's detail
 * passes the same redaction as a delivery's errors. A destination without a probe says which
 * checks it cannot make. The probe is cut off at `timeoutMilliseconds`.
 */
export async function probeDestination<Schema extends z.ZodMiniObject, State>(
  { probe: request }: ProbeEvent,
  { definition, uploader }: DestinationModule<Schema, State>,
  dependencies: ProbeDependencies,
): Promise<ProbeAnswer> {
  const secretValues: string[] = [];
  const checks: ProbeCheckAnswer[] = [];
  const redacted = (check: ProbeCheckAnswer): ProbeCheckAnswer => ({ ...check, detail: redactText(check.detail, secretValues) });
  const method = definition.capabilities?.probe ?? 'none';
  let destination: z.output<Schema>;
  try {
    const merged = await resolveSecrets({ token: request.token, index: 0, destination: request.destination, sealed: request.sealed }, definition, dependencies, secretValues);
    destination = parseOrThrow(definition.schema, merged, ['destination']) as z.output<Schema>;
    const from = [typeof request.destination.credentials === 'string' ? `the stored secret '${request.destination.credentials}'` : '', request.sealed ? 'inline (sealed) secrets' : '']
      .filter(Boolean)
      .join(' and ');
    checks.push({ name: 'credentials', ok: true, detail: from ? `read from ${from}` : 'none given' });
  } catch (error) {
    const detail = error instanceof ValidationError ? `with the stored secrets filled in, ${error.message}` : describeError(error);
    return { method, checks: [redacted({ name: 'credentials', ok: false, detail })] };
  }
  try {
    checkEndpoints(definition, destination as Record<string, unknown>, dependencies.network);
    checkCredentialHosts(definition, destination as Record<string, unknown>, dependencies.credentialHosts ?? []);
  } catch (error) {
    return { method, checks: [...checks, redacted({ name: 'network', ok: false, detail: describeError(error) })] };
  }
  const addresses = definition.endpointsOf(destination).map((endpoint) => endpoint.address);
  const network = await networkCheck(addresses, dependencies.network.allowPrivateNetworks, dependencies.resolve ?? systemResolve);
  checks.push(redacted(network));
  if (!network.ok) return { method, checks };
  if (!uploader.probe) {
    checks.push({
      name: 'write',
      ok: true,
      skipped: true,
      detail: `${definition.type} has no probe yet: reachability and permission to write are first checked by a delivery`,
    });
    return { method, checks };
  }
  const signal = AbortSignal.timeout(request.timeoutMilliseconds);
  try {
    const found = await uploader.probe({
      destination,
      signal,
      network: dependencies.network,
      credentials: storedCredentials({ destination: request.destination }, dependencies),
      application: definition.applicationSecret ? await applicationSecret(definition.type, dependencies) : undefined,
    });
    checks.push(...found.map((check) => redacted({ name: check.name, ok: check.ok, detail: check.detail })));
  } catch (error) {
    const detail = signal.aborted ? `no answer within ${request.timeoutMilliseconds / 1000} s` : uploader.classify(error).message;
    checks.push(redacted({ name: 'probe', ok: false, detail }));
  }
  return { method, checks };
}
