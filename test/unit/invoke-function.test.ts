import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { invokeFunction } from '../../shared/lambda/invoke-function.ts';
import { expectedAuthorization } from '../support/sigv4.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
let server: Server | undefined;

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A Lambda Invoke endpoint that answers with `status`, `headers` and `body`, and notes what it was sent. */
async function lambdaEndpoint(status: number, headers: Record<string, string>, body: string): Promise<{ endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString() });
      response.writeHead(status, headers).end(body);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

describe('Function: invokeFunction', () => {
  it("POSTs the event to the function's invocations and signs it as Lambda checks a signature", async () => {
    // Prepare
    const { endpoint, seen } = await lambdaEndpoint(200, { 'content-type': 'application/json' }, '{"ok":true}');
    const invoke = invokeFunction({ region: 'eu-west-1', endpoint, credentials: async () => credentials });

    // Act
    const answer = await invoke('upload-destinations-s3', { probe: { token: 'probe_1' } }, AbortSignal.timeout(5000));

    // Assess: the request, re-signed at its own date, carries the same signature.
    expect(answer).toEqual({ payload: { ok: true }, functionError: undefined });
    const [request] = seen;
    expect(request).toMatchObject({ method: 'POST', path: '/2015-03-31/functions/upload-destinations-s3/invocations', body: '{"probe":{"token":"probe_1"}}' });
    expect(request!.headers.authorization).toContain('SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-invocation-type,');
    expect(request!.headers.authorization).toBe(
      await expectedAuthorization({ method: 'POST', url: request!.path, headers: request!.headers, body: request!.body }, { service: 'lambda', region: 'eu-west-1', credentials }),
    );
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, /);
  });

  it('answers the function error Lambda reports for a function that threw, with its payload', async () => {
    const { endpoint } = await lambdaEndpoint(200, { 'x-amz-function-error': 'Unhandled' }, '{"errorType":"Error","errorMessage":"boom"}');

    const answer = await invokeFunction({ region: 'eu-west-1', endpoint, credentials: async () => credentials })('f', {}, AbortSignal.timeout(5000));

    expect(answer).toEqual({ payload: { errorType: 'Error', errorMessage: 'boom' }, functionError: 'Unhandled' });
  });

  it('fails naming the error type when Lambda refuses the call', async () => {
    const { endpoint } = await lambdaEndpoint(404, { 'x-amzn-errortype': 'ResourceNotFoundException:http://internal.amazon.com/' }, '{"Message":"Function not found"}');

    const invoking = invokeFunction({ region: 'eu-west-1', endpoint, credentials: async () => credentials })('missing', {}, AbortSignal.timeout(5000));

    await expect(invoking).rejects.toThrow("Lambda refused to invoke missing: ResourceNotFoundException ({\"Message\":\"Function not found\"})");
  });
});
