import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kmsService, secretsManagerService, type AwsJsonClientSettings, type AwsJsonService } from '../../../shared/net/aws-json-client.ts';
import { LocalKeyWrapper } from '../../../shared/secrets/sealer.ts';
import { expectedAuthorization } from '../sigv4.ts';

/** An error as a JSON-protocol service answers it: the status, and `{ "__type", "message" }`. */
export interface AwsErrorAnswer {
  readonly status: number;
  readonly type: string;
  readonly message?: string;
}

export const throttling: AwsErrorAnswer = { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' };
export const internalFailure: AwsErrorAnswer = { status: 500, type: 'InternalFailure', message: 'The request processing has failed because of an unknown error.' };

/** A request that reached an action: its name (`GenerateDataKey`) and its JSON input. */
export interface AwsJsonRequest {
  readonly action: string;
  readonly input: Readonly<Record<string, unknown>>;
}

/** A stand-in for one JSON-protocol AWS service on 127.0.0.1. */
export interface TestAwsJsonServer {
  readonly endpoint: string;
  /** What an `AwsJsonClient` of this server takes: its endpoint, region and test credentials. */
  readonly settings: AwsJsonClientSettings;
  /** Every request that reached an action, in order, those answered with a scripted error included. */
  readonly requests: AwsJsonRequest[];
  /** Answers the next requests with `errors`, in turn, instead of acting on them; then as usual again. */
  failNext(...errors: AwsErrorAnswer[]): void;
  close(): Promise<void>;
}

const region = 'eu-west-1';
const account = '111122223333';
/** The only credentials the stand-ins take: what `settings` hands a client. */
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const contentType = (service: AwsJsonService): string => `application/x-amz-json-${service.jsonVersion}`;

/** A refusal an action throws; the server answers it as the service would. */
class Refusal extends Error {
  public constructor(public readonly answer: AwsErrorAnswer) {
    super(answer.message ?? answer.type);
  }
}

const refuse = (status: number, type: string, message?: string): Refusal => new Refusal({ status, type, ...(message === undefined ? {} : { message }) });

type Action = (input: Readonly<Record<string, unknown>>) => object | Promise<object>;

/**
 * The refusal of a request not SigV4-signed for `service` in this region with the test
 * credentials, as AWS answers one: the request is signed again, at its own date and with the
 * headers it says it signed, and must carry the same signature.
 */
async function signatureRefusal(service: AwsJsonService, request: IncomingMessage, body: string): Promise<Refusal | undefined> {
  const { authorization, 'x-amz-date': date } = request.headers;
  if (authorization === undefined) return refuse(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const signed = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(authorization);
  if (!signed) return refuse(400, 'IncompleteSignatureException', 'Authorization header requires a SigV4 Credential, SignedHeaders and Signature.');
  const [, scopeRegion, scopeService, signedHeaders = ''] = signed;
  if (scopeService !== service.name) return refuse(400, 'InvalidSignatureException', `Credential should be scoped to correct service: '${service.name}'.`);
  if (scopeRegion !== region) return refuse(400, 'InvalidSignatureException', 'Credential should be scoped to a valid region.');
  const names = signedHeaders.split(';');
  if (!names.includes('host') || typeof date !== 'string') return refuse(400, 'IncompleteSignatureException', 'The host header and X-Amz-Date must be signed.');
  const again = await expectedAuthorization({ method: request.method ?? '', url: request.url ?? '/', headers: request.headers, body }, { service: service.name, region, credentials });
  if (again !== authorization) {
    return refuse(400, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
  }
  return undefined;
}

/** The input of a request for `service`, or the refusal of a malformed one. */
function parsedInput(service: AwsJsonService, headers: IncomingHttpHeaders, body: string): Record<string, unknown> | Refusal {
  if (headers['content-type'] !== contentType(service)) return refuse(400, 'SerializationException', `expected ${contentType(service)}`);
  try {
    const input = JSON.parse(body) as unknown;
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) return input as Record<string, unknown>;
  } catch {
    // Answered below, as any body that is no JSON object.
  }
  return refuse(400, 'SerializationException', 'the body is not a JSON object');
}

/**
 * Serves `actions` of `service` as AWS does over its JSON protocol: a signed POST naming its action
 * in `X-Amz-Target`, answered with JSON, a refusal with its status and `{ "__type", "message" }`.
 */
async function startAwsJsonServer(service: AwsJsonService, actions: Readonly<Record<string, Action>>): Promise<TestAwsJsonServer> {
  const requests: AwsJsonRequest[] = [];
  const scripted: AwsErrorAnswer[] = [];

  const answer = (response: ServerResponse, status: number, body: object): void => {
    response.writeHead(status, { 'content-type': contentType(service), 'x-amzn-requestid': randomUUID() }).end(JSON.stringify(body));
  };

  const handle = async (request: IncomingMessage, body: string): Promise<object> => {
    const refusal = await signatureRefusal(service, request, body);
    if (refusal) throw refusal;
    const target = String(request.headers['x-amz-target'] ?? '');
    const name = target.startsWith(`${service.targetPrefix}.`) ? target.slice(service.targetPrefix.length + 1) : '';
    const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
    if (request.method !== 'POST' || action === undefined) throw refuse(400, 'UnknownOperationException');
    const input = parsedInput(service, request.headers, body);
    if (input instanceof Refusal) throw input;
    requests.push({ action: name, input });
    const failure = scripted.shift();
    if (failure) throw new Refusal(failure);
    return action(input);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      handle(request, Buffer.concat(chunks).toString()).then(
        (result) => answer(response, 200, result),
        (error: unknown) => {
          // An action's own failure (a bug of the stand-in) is the service's trouble: a 500.
          const { status, type, message } = error instanceof Refusal ? error.answer : { ...internalFailure, message: String(error) };
          answer(response, status, { __type: type, ...(message === undefined ? {} : { message }) });
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    settings: { region, endpoint, credentials },
    requests,
    failNext: (...errors) => scripted.push(...errors),
    close: async () => {
      // The clients keep their connections alive; the server would wait for them.
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** KMS with one symmetric key, known by its alias, its ID or its ARN. */
export type TestKms = TestAwsJsonServer;

/**
 * KMS's encryption context as the master key binds it: the same pairs in any order are the same
 * context, and any other is another (the data key then does not decrypt).
 */
function boundContext(context: unknown): string {
  const pairs = typeof context === 'object' && context !== null ? (context as Record<string, unknown>) : {};
  return JSON.stringify(Object.keys(pairs).sort().map((key) => [key, pairs[key]]));
}

/**
 * Starts a stand-in for KMS's GenerateDataKey and Decrypt, its data keys wrapped with a master key
 * of its own (`LocalKeyWrapper`) under the request's encryption context. As KMS, it refuses a key it
 * does not know (NotFoundException), a data key spec it does not make (ValidationException) and a
 * ciphertext that does not decrypt under the context given (InvalidCiphertextException).
 *
 * @example
 * const kms = await startTestKms('alias/upload-destinations');
 * const wrapper = new KmsKeyWrapper(new AwsJsonClient(kmsService, kms.settings), 'alias/upload-destinations');
 * // …
 * await kms.close();
 */
export async function startTestKms(alias: string): Promise<TestKms> {
  const master = new LocalKeyWrapper(randomBytes(32));
  const keyId = randomUUID();
  const keyArn = `arn:aws:kms:${region}:${account}:key/${keyId}`;
  const names = new Set([alias, keyId, keyArn, `arn:aws:kms:${region}:${account}:${alias}`]);
  const base64 = (bytes: Buffer): string => bytes.toString('base64');

  return startAwsJsonServer(kmsService, {
    GenerateDataKey: async (input) => {
      if (!names.has(input.KeyId as string)) throw refuse(400, 'NotFoundException', `Key '${String(input.KeyId)}' does not exist`);
      if (input.KeySpec !== 'AES_256') throw refuse(400, 'ValidationException', 'this stand-in makes AES_256 data keys only');
      const { plaintext, wrapped } = await master.newDataKey(boundContext(input.EncryptionContext));
      return { KeyId: keyArn, Plaintext: base64(plaintext), CiphertextBlob: base64(wrapped) };
    },
    Decrypt: async (input) => {
      if (input.KeyId !== undefined && !names.has(input.KeyId as string)) throw refuse(400, 'IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
      let plaintext: Buffer;
      try {
        plaintext = await master.unwrap(Buffer.from(String(input.CiphertextBlob), 'base64'), boundContext(input.EncryptionContext));
      } catch {
        // KMS says no more than this: which of the blob and the context was wrong stays unsaid.
        throw refuse(400, 'InvalidCiphertextException');
      }
      return { KeyId: keyArn, Plaintext: base64(plaintext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },
  });
}

/** Secrets Manager holding secrets by name, each value a string or bytes. */
export interface TestSecretsManager extends TestAwsJsonServer {
  /** Stores `value` as a new current version of `name`, making the secret if there is none (as an operator would). */
  store(name: string, value: string | Buffer): void;
  /** The current value of `name`. */
  current(name: string): string | Buffer | undefined;
}

interface SecretVersion {
  /** The version's ID: the `ClientRequestToken` that made it. */
  readonly id: string;
  readonly value: string | Buffer;
  readonly created: number;
}

/**
 * Starts a stand-in for Secrets Manager's GetSecretValue and PutSecretValue, by name or ARN. As
 * Secrets Manager, a secret it does not hold is a ResourceNotFoundException, and PutSecretValue
 * takes exactly one of SecretString and SecretBinary, needs the `ClientRequestToken` that only the
 * SDKs fill in, and treats a token seen before as the same write (the same value: nothing new; another: ResourceExistsException).
 *
 * @example
 * const secretsManager = await startTestSecretsManager();
 * secretsManager.store('upload-destinations/team/s3', '{"aws_access_key_id":"AKIA"}');
 * const store = new SecretsManagerStore(new AwsJsonClient(secretsManagerService, secretsManager.settings), 'upload-destinations/');
 * // …
 * await secretsManager.close();
 */
export async function startTestSecretsManager(): Promise<TestSecretsManager> {
  const secrets = new Map<string, { readonly arn: string; readonly versions: SecretVersion[] }>();
  const arnOf = (name: string): string => `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${randomBytes(3).toString('hex')}`;

  const secretOf = (id: unknown): { name: string; arn: string; versions: SecretVersion[] } => {
    for (const [name, secret] of secrets) if (id === name || id === secret.arn) return { name, ...secret };
    throw refuse(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  };
  const addVersion = (name: string, value: string | Buffer, id: string = randomUUID()): void => {
    const secret = secrets.get(name) ?? { arn: arnOf(name), versions: [] };
    secret.versions.push({ id, value, created: Math.floor(Date.now() / 1000) });
    secrets.set(name, secret);
  };
  const valueOf = (input: Readonly<Record<string, unknown>>): string | Buffer => {
    const { SecretString: text, SecretBinary: binary } = input;
    if ((text === undefined) === (binary === undefined)) throw refuse(400, 'InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
    return typeof text === 'string' ? text : Buffer.from(String(binary), 'base64');
  };
  const sameValue = (a: string | Buffer, b: string | Buffer): boolean => typeof a === typeof b && (typeof a === 'string' ? a === b : Buffer.compare(a, b as Buffer) === 0);

  const server = await startAwsJsonServer(secretsManagerService, {
    GetSecretValue: (input) => {
      const { name, arn, versions } = secretOf(input.SecretId);
      const { id, value, created } = versions.at(-1)!;
      const stored = typeof value === 'string' ? { SecretString: value } : { SecretBinary: value.toString('base64') };
      return { ARN: arn, Name: name, VersionId: id, VersionStages: ['AWSCURRENT'], CreatedDate: created, ...stored };
    },
    PutSecretValue: (input) => {
      const { name, arn, versions } = secretOf(input.SecretId);
      const value = valueOf(input);
      const token = input.ClientRequestToken;
      if (typeof token !== 'string' || token.length < 32 || token.length > 64) {
        throw refuse(400, 'InvalidParameterException', 'A ClientRequestToken of 32 to 64 characters is required.');
      }
      const earlier = versions.find((version) => version.id === token);
      if (earlier && !sameValue(earlier.value, value)) throw refuse(400, 'ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
      if (!earlier) addVersion(name, value, token);
      return { ARN: arn, Name: name, VersionId: token, VersionStages: ['AWSCURRENT'] };
    },
  });
  return {
    ...server,
    store: (name, value) => addVersion(name, value),
    current: (name) => secrets.get(name)?.versions.at(-1)?.value,
  };
}
