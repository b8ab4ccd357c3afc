import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { awsServiceEndpoint } from '../net/aws-endpoints.ts';
import { requestToSign } from '../net/sigv4-request.ts';

/** What a function answered to one invocation (RequestResponse). */
export interface InvokeAnswer {
  /** The function's result, parsed (undefined for an empty payload). */
  readonly payload: unknown;
  /** Lambda's `X-Amz-Function-Error` (`Unhandled`, `Handled`) when the function threw; the payload then describes the error. */
  readonly functionError: string | undefined;
}

/** Invokes a Lambda function synchronously with one JSON event. */
export type InvokeFunction = (functionName: string, event: unknown, signal: AbortSignal) => Promise<InvokeAnswer>;

export interface InvokeFunctionSettings {
  readonly region: string;
  /** Another Invoke endpoint (the local runtime's). @default Lambda's regional endpoint */
  readonly endpoint?: string;
  /** @default the SDK's default chain (in the function bundles, the environment Lambda provides) */
  readonly credentials?: AwsCredentialIdentityProvider;
}

/**
 * Lambda's Invoke as one SigV4-signed POST, with the SDK's own signer. The ingress makes this one
 * call (to test a destination inside its function), and the Lambda client would bring the schema
 * of every Lambda operation with it: 65 KiB of the ingress bundle, parsed at every cold start.
 * Lambda answers an invocation whose function threw with 200 and `X-Amz-Function-Error`; any other
 * status is the service refusing the call (`x-amzn-ErrorType` names why).
 */
export function invokeFunction(settings: InvokeFunctionSettings): InvokeFunction {
  const endpoint = new URL(settings.endpoint ?? awsServiceEndpoint('lambda', settings.region));
  const signer = new SignatureV4({ service: 'lambda', region: settings.region, credentials: settings.credentials ?? defaultProvider(), sha256: Sha256 });
  return async (functionName, event, signal) => {
    const path = `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
    const body = JSON.stringify(event);
    const signed = await signer.sign(requestToSign(endpoint, 'POST', path, { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' }, body));
    const response = await fetch(new URL(path, endpoint), { method: 'POST', headers: signed.headers, body, signal });
    const text = await response.text();
    if (!response.ok) {
      const kind = response.headers.get('x-amzn-errortype')?.split(':')[0] ?? `HTTP ${response.status}`;
      throw new Error(`Lambda refused to invoke ${functionName}: ${kind}${text ? ` (${text.slice(0, 300)})` : ''}`);
    }
    return { payload: text ? (JSON.parse(text) as unknown) : undefined, functionError: response.headers.get('x-amz-function-error') ?? undefined };
  };
}
