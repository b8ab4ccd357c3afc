import { randomBytes } from 'node:crypto';
import { destinationDefinition, destinationTestSchema } from '../destinations/registry.ts';
import { sealedFor, sealingContext } from '../../shared/contract/message.ts';
import { probeAnswerSchema, type ProbeCheckAnswer, type ProbeEvent } from '../../shared/contract/probe.ts';
import type { Destination } from '../../shared/contract/request.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { describeError, ValidationError } from '../../shared/errors.ts';
import type { InvokeFunction } from '../../shared/lambda/invoke-function.ts';
import type { EnvelopeSealer } from '../../shared/secrets/sealer.ts';
import { destinationConfinementErrors, privateEndpointErrors, secretsApart } from './accept.ts';

export interface TestDestinationDependencies {
  /** Invokes the destination functions (the ingress never loads their code). */
  readonly invoke: InvokeFunction;
  /** Destination type → its function's name. */
  readonly destinationFunctions: Readonly<Record<string, string>>;
  readonly sealer: EnvelopeSealer;
  readonly allowPrivateNetworks: boolean;
  readonly stagingBucket: string;
  readonly credentialHosts: readonly string[];
  /** @default - unknown: no role is refused */
  readonly accountId?: string;
  /**
   * How long the destination's own probe may take; the function is given a little more to answer.
   * @default 15 (the API's answer must come within API Gateway's 29 s)
   */
  readonly probeSeconds?: number;
}

/** The answer of `POST /v1/destinations/test`. */
export interface TestAnswer {
  readonly ok: boolean;
  readonly type: string;
  /** How permission to write was checked: `write`, `identity`, or `none` (the destination has no probe). */
  readonly method: 'write' | 'identity' | 'none';
  readonly checks: readonly ProbeCheckAnswer[];
}

/** Time the function may take beyond its probe's own limit (a cold start, reading secrets). */
const invokeMarginMilliseconds = 8_000;

/**
 * Tests a destination before its first job, in its own function: the door validates it as it would
 * a job's (every offending field a 400), seals its inline secrets for this test alone, and invokes
 * the destination's function directly with a probe event, waiting a bounded time for its checks.
 */
export async function testDestination(body: unknown, dependencies: TestDestinationDependencies): Promise<TestAnswer> {
  const { destination } = parseOrThrow(destinationTestSchema, body) as { destination: Destination };
  const refused = [
    ...destinationConfinementErrors(destination, ['destination'], dependencies),
    ...(dependencies.allowPrivateNetworks ? [] : privateEndpointErrors(destination, ['destination'])),
  ];
  if (refused.length > 0) throw new ValidationError(refused);
  const { type } = destination;
  const definition = destinationDefinition(type);
  const validation: ProbeCheckAnswer = { name: 'validation', ok: true, detail: `a valid ${type} destination; no address names a refused network` };
  const functionName = dependencies.destinationFunctions[type];
  if (!functionName) {
    return { ok: false, type, method: 'none', checks: [validation, { name: 'function', ok: false, detail: `no function is configured for ${type}` }] };
  }
  const token = `probe_${randomBytes(15).toString('base64url')}`;
  const { open, secrets } = secretsApart(destination);
  const sealed = Object.keys(secrets).length > 0 ? await dependencies.sealer.seal(secrets, sealingContext(sealedFor(token, 0, definition, open))) : undefined;
  const probeMilliseconds = (dependencies.probeSeconds ?? 15) * 1000;
  const event: ProbeEvent = { probe: { version: 1, token, type, destination: open, ...(sealed ? { sealed } : {}), timeoutMilliseconds: probeMilliseconds } };
  try {
    const { payload, functionError } = await dependencies.invoke(functionName, event, AbortSignal.timeout(probeMilliseconds + invokeMarginMilliseconds));
    if (functionError) {
      const reason = (payload as { errorMessage?: string } | undefined)?.errorMessage ?? functionError;
      return { ok: false, type, method: 'none', checks: [validation, { name: 'function', ok: false, detail: `the ${type} function failed: ${describeError(reason)}` }] };
    }
    const probed = probeAnswerSchema.parse(payload);
    const checks = [validation, ...probed.checks];
    return { ok: checks.every((check) => check.ok), type, method: probed.method, checks };
  } catch (error) {
    const detail = error instanceof Error && error.name === 'TimeoutError' ? `the ${type} function did not answer within ${(probeMilliseconds + invokeMarginMilliseconds) / 1000} s` : describeError(error);
    return { ok: false, type, method: 'none', checks: [validation, { name: 'function', ok: false, detail }] };
  }
}
