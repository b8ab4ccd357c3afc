import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsCredentialIdentity } from '@smithy/types';
import { expectedAuthorization } from '../sigv4.ts';

/** A role the stand-in lets be assumed: the external id its trust policy requires, and the keys it hands out. */
export interface TestRole {
  readonly externalId: string;
  readonly keys: AwsCredentialIdentity;
  /** How long the keys it hands out last. @default an hour */
  readonly lifetimeSeconds?: number;
}

/** An AssumeRole that reached the stand-in, signed by the service's identity: its form fields. */
export type AssumeRoleRequest = Readonly<Record<string, string>>;

export interface TestSts {
  /** What `AWS_ENDPOINT_URL_STS` takes. */
  readonly endpoint: string;
  readonly requests: AssumeRoleRequest[];
  /** Answers the next AssumeRole requests with these statuses and codes, in turn, instead of acting on them. */
  failNext(...errors: { status: number; code: string }[]): void;
  /** Takes the next `count` AssumeRole requests and never answers them, as a silent endpoint would. */
  stallNext(count: number): void;
  close(): Promise<void>;
}

function errorAnswer(code: string, message: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function credentialsAnswer(roleArn: string, keys: AwsCredentialIdentity, expiration: Date): string {
  return (
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>' +
    `<AssumedRoleUser><Arn>${roleArn}/upload-destinations</Arn><AssumedRoleId>AROA3XFRBF535PLBIFPI4:upload-destinations</AssumedRoleId></AssumedRoleUser>` +
    `<Credentials><AccessKeyId>${keys.accessKeyId}</AccessKeyId><SecretAccessKey>${keys.secretAccessKey}</SecretAccessKey>` +
    `${keys.sessionToken === undefined ? '' : `<SessionToken>${keys.sessionToken}</SessionToken>`}<Expiration>${expiration.toISOString()}</Expiration></Credentials>` +
    `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`
  );
}

/**
 * A stand-in for STS's AssumeRole over its query protocol, on 127.0.0.1: a form POST SigV4-signed
 * for `sts` in `region` by `service` (the service's own identity), answered with XML. As a role's
 * trust policy with an `sts:ExternalId` condition, it hands out the role's keys only with its
 * external id, and answers 403 AccessDenied otherwise (for a role it does not know, too).
 */
export async function startTestSts(region: string, service: AwsCredentialIdentity, roles: Readonly<Record<string, TestRole>>): Promise<TestSts> {
  const requests: AssumeRoleRequest[] = [];
  const scripted: { status: number; code: string }[] = [];
  let stalls = 0;

  const handle = async (request: IncomingMessage, body: string): Promise<{ status: number; body: string } | undefined> => {
    const again = await expectedAuthorization({ method: request.method ?? '', url: request.url ?? '/', headers: request.headers, body }, { service: 'sts', region, credentials: service });
    if (again === undefined || again !== request.headers.authorization) {
      return { status: 403, body: errorAnswer('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.') };
    }
    const form = Object.fromEntries(new URLSearchParams(body));
    if (form.Action !== 'AssumeRole' || form.Version !== '2011-06-15') return { status: 400, body: errorAnswer('InvalidAction', 'Could not find operation') };
    requests.push(form);
    if (stalls > 0) {
      stalls -= 1;
      return undefined;
    }
    const failure = scripted.shift();
    if (failure) return { status: failure.status, body: errorAnswer(failure.code, 'scripted') };
    const role = form.RoleArn === undefined ? undefined : roles[form.RoleArn];
    if (role === undefined || role.externalId !== form.ExternalId) {
      return { status: 403, body: errorAnswer('AccessDenied', `User is not authorized to perform: sts:AssumeRole on resource: ${form.RoleArn ?? ''}`) };
    }
    const lifetime = Math.min(role.lifetimeSeconds ?? 3600, Number(form.DurationSeconds ?? 3600));
    return { status: 200, body: credentialsAnswer(form.RoleArn ?? '', role.keys, new Date(Date.now() + lifetime * 1000)) };
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void handle(request, Buffer.concat(chunks).toString()).then((answer) => answer && response.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    failNext: (...errors) => scripted.push(...errors),
    stallNext: (count) => {
      stalls += count;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
