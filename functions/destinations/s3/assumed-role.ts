import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { answerText, awsServiceEndpoint, classifyNetworkFailure, isRetryableAwsRefusal, PermanentError, requestToSign, sendSigned, withAwsRetries, withinTime, xmlText } from '../../../shared/destination/index.ts';
import { timeoutError } from './s3-api.ts';

/** Keys are asked for again this long before they expire, so no request is signed with keys about to lapse. */
const refreshBeforeMs = 5 * 60_000;
const tries = 3;
/** STS answers in milliseconds: a try still without an answer after this is given up and made again. */
const defaultAttemptTimeoutMs = 10_000;
/** How long a failed ask stands in for STS's answer: longer than `S3Api`'s tries of one request take. */
const defaultFailureHeldMs = 10_000;
const refusals = new Set(['AccessDenied', 'AccessDeniedException', 'MalformedPolicyDocument', 'RegionDisabledException']);

/** The service's own identity and connections, shared by every role the function assumes. */
let sts: { readonly identity: AwsCredentialIdentityProvider; readonly agents: { readonly http: HttpAgent; readonly https: Agent } } | undefined;

/** STS's regional endpoint, or the one `AWS_ENDPOINT_URL_STS` names (as the SDKs take it: a VPC endpoint, a local stand-in). */
function stsEndpoint(region: string): URL {
  const configured = process.env.AWS_ENDPOINT_URL_STS;
  if (configured === undefined) return new URL(awsServiceEndpoint('sts', region));
  const endpoint = URL.parse(configured);
  if (endpoint?.protocol !== 'https:' && endpoint?.protocol !== 'http:') {
    throw new PermanentError(`AWS_ENDPOINT_URL_STS must be an http(s) URL, such as https://sts.us-east-1.amazonaws.com; it is '${configured}'`, { code: 'StsEndpointInvalid' });
  }
  return endpoint;
}

export interface AssumedRoleSettings {
  /** How long one AssumeRole waits for its answer. @default 10 s */
  readonly attemptTimeoutMs?: number;
  /** How long a failed ask is the answer before STS is asked again. @default 10 s */
  readonly failureHeldMs?: number;
}

/** STS's answer to the signed POST, read; a `TimeoutError` when none came within `timeoutMs`. */
function answerWithin(timeoutMs: number, endpoint: URL, headers: Record<string, string>, body: string, agent: HttpAgent): Promise<{ status: number; text: string }> {
  return withinTime(
    timeoutMs,
    undefined,
    async (signal) => {
      const response = await sendSigned(endpoint, 'POST', endpoint.pathname, headers, body, agent, signal);
      return { status: response.statusCode ?? 0, text: await answerText(response) };
    },
    (cause) => timeoutError(`STS AssumeRole: no answer within ${timeoutMs} ms`, cause),
  );
}

/** One AssumeRole call (STS's query protocol): the role's keys, or STS's refusal code and message. */
async function assumeRoleOnce(roleArn: string, externalId: string, region: string, attemptTimeoutMs: number): Promise<AwsCredentialIdentity> {
  sts ??= { identity: defaultProvider(), agents: { http: new HttpAgent({ keepAlive: true }), https: new Agent({ keepAlive: true }) } };
  const endpoint = stsEndpoint(region);
  const body = new URLSearchParams({
    Action: 'AssumeRole',
    Version: '2011-06-15',
    RoleArn: roleArn,
    RoleSessionName: 'upload-destinations',
    ExternalId: externalId,
    DurationSeconds: '3600',
  }).toString();
  const signer = new SignatureV4({ service: 'sts', region, credentials: sts.identity, sha256: Sha256 });
  const signed = await signer.sign(requestToSign(endpoint, 'POST', endpoint.pathname, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body));
  const { status, text } = await answerWithin(attemptTimeoutMs, endpoint, signed.headers, body, endpoint.protocol === 'https:' ? sts.agents.https : sts.agents.http);
  if (status < 200 || status >= 300) {
    const code = xmlText(text, 'Code') ?? `HTTP${status}`;
    throw Object.assign(new Error(`STS AssumeRole: ${code}: ${xmlText(text, 'Message') ?? ''}`), { name: code, statusCode: status });
  }
  const accessKeyId = xmlText(text, 'AccessKeyId');
  const secretAccessKey = xmlText(text, 'SecretAccessKey');
  if (!accessKeyId || !secretAccessKey) throw new Error(`STS gave no keys for ${roleArn}`);
  const sessionToken = xmlText(text, 'SessionToken');
  const expiration = xmlText(text, 'Expiration');
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}), ...(expiration ? { expiration: new Date(expiration) } : {}) };
}

/**
 * AssumeRole, tried again (as the SDK would) on throttling, STS's own trouble and failed or silent
 * connections; other failures (a malformed endpoint or answer) are not, as `S3Api` does.
 */
async function assumeRole(roleArn: string, externalId: string, region: string, attemptTimeoutMs: number): Promise<AwsCredentialIdentity> {
  try {
    return await withAwsRetries(
      tries,
      () => assumeRoleOnce(roleArn, externalId, region, attemptTimeoutMs),
      (error) => {
        const { name, statusCode } = error as { name: string; statusCode?: number };
        if (statusCode !== undefined) return !refusals.has(name) && isRetryableAwsRefusal(name, statusCode);
        return classifyNetworkFailure(error)?.retryable === true;
      },
    );
  } catch (error) {
    const { name } = error as { name: string };
    if (!refusals.has(name)) throw error;
    throw new PermanentError(
      `role_arn: the service may not assume ${roleArn} (${name}): its trust policy must allow this service's account sts:AssumeRole with sts:ExternalId equal to external_id`,
      { code: 'AssumeRoleDenied', cause: error },
    );
  }
}

/**
 * The keys of a customer's role, as AWS's confused-deputy guidance has it: the service assumes the
 * role with the external id the role's trust policy requires, so a caller who names another
 * customer's role without that customer's external id gets nothing. The keys (an hour's) are kept
 * and asked for again shortly before they expire; concurrent requests share one ask. An ask that
 * failed for now, its own tries spent, is the answer for a short while: the requests that wanted
 * the keys fail with it instead of each asking STS again (`S3Api` tries a failed request again,
 * signing included), and the delivery's next attempt asks anew.
 */
export function assumedRole(roleArn: string, externalId: string, region: string, settings: AssumedRoleSettings = {}): AwsCredentialIdentityProvider {
  const attemptTimeoutMs = settings.attemptTimeoutMs ?? defaultAttemptTimeoutMs;
  const failureHeldMs = settings.failureHeldMs ?? defaultFailureHeldMs;
  let held: AwsCredentialIdentity | undefined;
  let failed: { readonly error: unknown; readonly at: number } | undefined;
  let asking: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    if (held && (held.expiration === undefined || held.expiration.getTime() - Date.now() > refreshBeforeMs)) return held;
    if (failed && Date.now() - failed.at < failureHeldMs) throw failed.error;
    asking ??= assumeRole(roleArn, externalId, region, attemptTimeoutMs)
      .then(
        (keys) => {
          failed = undefined;
          return (held = keys);
        },
        (error: unknown) => {
          // A refusal is not held: the owner who fixes the trust policy may try again at once.
          if (!(error instanceof PermanentError)) failed = { error, at: Date.now() };
          throw error;
        },
      )
      .finally(() => (asking = undefined));
    return asking;
  };
}
