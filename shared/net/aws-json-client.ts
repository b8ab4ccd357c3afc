import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { awsServiceEndpoint } from './aws-endpoints.ts';
import { isRetryableAwsRefusal, withAwsRetries, withinTime } from './aws-retry.ts';
import { answerText, requestToSign, sendSigned } from './sigv4-request.ts';

/** An AWS service that speaks the JSON protocol, as its requests name it. */
export interface AwsJsonService {
  /** The signing name, also the endpoint's first label: `dynamodb`, `sqs`, `kms`, `secretsmanager`. */
  readonly name: string;
  /** What `X-Amz-Target` puts before the action: `DynamoDB_20120810`, `AmazonSQS`, `TrentService`, `secretsmanager`. */
  readonly targetPrefix: string;
  readonly jsonVersion: '1.0' | '1.1';
  /** Headers every request carries (SQS's `x-amzn-query-mode`, which asks for its errors' old codes). */
  readonly headers?: Readonly<Record<string, string>>;
}

export const dynamodbService: AwsJsonService = { name: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0' };
export const sqsService: AwsJsonService = { name: 'sqs', targetPrefix: 'AmazonSQS', jsonVersion: '1.0', headers: { 'x-amzn-query-mode': 'true' } };
export const kmsService: AwsJsonService = { name: 'kms', targetPrefix: 'TrentService', jsonVersion: '1.1' };
export const secretsManagerService: AwsJsonService = { name: 'secretsmanager', targetPrefix: 'secretsmanager', jsonVersion: '1.1' };

export interface AwsJsonClientSettings {
  readonly region: string;
  /** Another endpoint (the local runtime's embedded server). @default the service's regional endpoint ({@link awsServiceEndpoint}) */
  readonly endpoint?: string;
  /** @default the SDK's default chain (in the function bundles, the environment Lambda provides) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Tries of one call, throttling included. @default 3, as the SDK's */
  readonly maxAttempts?: number;
  /** How long one try may take before it is given up and tried again. @default 10 s */
  readonly attemptTimeoutMs?: number;
}

/** A refusal by an AWS service: `name` is its error code (`ConditionalCheckFailedException`, `ThrottlingException`, …). */
export class AwsServiceError extends Error {
  public constructor(
    public readonly code: string,
    public readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** True when `error` is the service's refusal with `code`. */
export function isAwsError(error: unknown, code: string): error is AwsServiceError {
  return error instanceof AwsServiceError && error.code === code;
}

/**
 * The error code of a JSON-protocol answer: `__type` or `x-amzn-ErrorType`, without the shape's
 * namespace (`com.amazonaws.dynamodb.v20120810#`) and without what follows a colon (a URL).
 */
function errorCode(response: IncomingMessage, body: Record<string, unknown>): string | undefined {
  const raw = [body.__type, body.code, response.headers['x-amzn-errortype']].find((value): value is string => typeof value === 'string' && value !== '');
  return raw?.split(':')[0]?.split('#').pop();
}

function parsed(text: string): Record<string, unknown> {
  if (text === '') return {};
  const value = JSON.parse(text) as unknown;
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/**
 * Calls of a JSON-protocol AWS service (DynamoDB, SQS, KMS, Secrets Manager), each one SigV4-signed
 * POST with the SDK's own signer. The service's functions make a handful of such calls per
 * delivery; the SDK's clients bring their operations' schemas and a middleware stack with them,
 * 170 KiB of each bundle parsed at every cold start and about 0.4 ms of CPU per call. Input and
 * answer are the service's JSON as its API reference documents it (blobs in base64). A call is
 * tried again, with the SDK's jittered exponential backoff (100 ms base, at most 20 s), when the
 * service throttles it, answers 5xx, the connection fails or a try takes longer than
 * `attemptTimeoutMs` (the service answers these calls in milliseconds; a kept-alive connection that
 * died while a function was frozen would otherwise hold a delivery until the operating system
 * gives up on it, minutes later, which the SDK's clients let happen); a refusal comes back as
 * {@link AwsServiceError}. These requests stay outside the network guard, as the SDK clients did:
 * their endpoints come from the stack's configuration, never from a caller.
 */
export class AwsJsonClient {
  readonly #service: AwsJsonService;
  readonly #endpoint: URL;
  readonly #signer: SignatureV4;
  readonly #maxAttempts: number;
  readonly #attemptTimeoutMs: number;
  readonly #agent: HttpAgent;

  public constructor(service: AwsJsonService, settings: AwsJsonClientSettings) {
    this.#service = service;
    this.#endpoint = new URL(settings.endpoint ?? awsServiceEndpoint(service.name, settings.region));
    this.#signer = new SignatureV4({ service: service.name, region: settings.region, credentials: settings.credentials ?? defaultProvider(), sha256: Sha256 });
    this.#maxAttempts = settings.maxAttempts ?? 3;
    this.#attemptTimeoutMs = settings.attemptTimeoutMs ?? 10_000;
    this.#agent = this.#endpoint.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  /** Calls `action` with `input`; its answer, parsed. */
  public async call<Answer = Record<string, unknown>>(action: string, input: object, signal?: AbortSignal): Promise<Answer> {
    const body = JSON.stringify(input);
    const answer = await withAwsRetries(
      this.#maxAttempts,
      () => this.#callInTime(action, body, signal),
      (error) => (error instanceof AwsServiceError ? isRetryableAwsRefusal(error.code, error.statusCode) : !(signal?.aborted ?? false)),
    );
    return answer as Answer;
  }

  /** One try, given up when it has no answer within the attempt timeout. */
  #callInTime(action: string, body: string, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    return withinTime(
      this.#attemptTimeoutMs,
      signal,
      (inTime) => this.#callOnce(action, body, inTime),
      (cause) => new Error(`${this.#service.name} ${action}: no answer within ${this.#attemptTimeoutMs} ms`, { cause }),
    );
  }

  async #callOnce(action: string, body: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    const { name, targetPrefix, jsonVersion, headers = {} } = this.#service;
    const endpoint = this.#endpoint;
    const path = endpoint.pathname;
    const signed = await this.#signer.sign(
      requestToSign(endpoint, 'POST', path, { ...headers, 'content-type': `application/x-amz-json-${jsonVersion}`, 'x-amz-target': `${targetPrefix}.${action}` }, body),
    );
    const response = await sendSigned(endpoint, 'POST', path, signed.headers, body, this.#agent, signal);
    const text = await answerText(response);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return parsed(text);
    let answer: Record<string, unknown> = {};
    try {
      answer = parsed(text);
    } catch {
      // A proxy's or a load balancer's page: the status says what there is to say.
    }
    const code = errorCode(response, answer) ?? `HTTP${status}`;
    const message = [answer.message, answer.Message].find((value) => typeof value === 'string');
    throw new AwsServiceError(code, status, `${name} ${action}: ${code}${message ? ` (${String(message).slice(0, 300)})` : ''}`);
  }
}
