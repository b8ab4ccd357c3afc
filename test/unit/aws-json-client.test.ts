import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsJsonClient, AwsServiceError, dynamodbService, isAwsError, sqsService } from '../../shared/net/aws-json-client.ts';
import { expectedAuthorization } from '../support/sigv4.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
let server: Server | undefined;

interface Seen {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** A JSON-protocol endpoint that gives `answers` in turn (the last one again once they run out) and notes each request; `null` drops the connection. */
async function service(answers: readonly (Answer | null)[]): Promise<{ endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString() });
      const answer = answers[Math.min(seen.length, answers.length) - 1];
      if (answer === null) return request.socket.destroy();
      response.writeHead(answer!.status, { 'content-type': 'application/x-amz-json-1.0', ...answer!.headers }).end(answer!.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

describe('Class: AwsJsonClient', () => {
  it("POSTs the action's input as JSON with its target, signed as the service checks a signature, and answers the parsed JSON", async () => {
    // Prepare
    const { endpoint, seen } = await service([{ status: 200, body: '{"Item":{"id":{"S":"a"}}}' }]);
    const dynamodb = new AwsJsonClient(dynamodbService, { region: 'eu-west-1', endpoint, credentials });

    // Act
    const answer = await dynamodb.call('GetItem', { TableName: 'jobs', Key: { id: { S: 'a' } } });

    // Assess: the request, re-signed at its own date, carries the same signature.
    expect(answer).toEqual({ Item: { id: { S: 'a' } } });
    const [request] = seen;
    expect(request).toMatchObject({ path: '/', body: '{"TableName":"jobs","Key":{"id":{"S":"a"}}}' });
    expect(request!.headers).toMatchObject({ 'x-amz-target': 'DynamoDB_20120810.GetItem', 'content-type': 'application/x-amz-json-1.0' });
    expect(request!.headers.authorization).toContain('SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target,');
    expect(request!.headers.authorization).toBe(
      await expectedAuthorization({ method: 'POST', url: '/', headers: request!.headers, body: request!.body }, { service: 'dynamodb', region: 'eu-west-1', credentials }),
    );
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, /);
  });

  it("sends the service's own headers: SQS is asked for its errors' query-protocol codes", async () => {
    const { endpoint, seen } = await service([{ status: 200, body: '{"MessageId":"m"}' }]);

    await new AwsJsonClient(sqsService, { region: 'eu-west-1', endpoint, credentials }).call('SendMessage', { QueueUrl: 'q', MessageBody: 'b' });

    expect(seen[0]!.headers).toMatchObject({ 'x-amz-target': 'AmazonSQS.SendMessage', 'x-amzn-query-mode': 'true' });
  });

  it('fails with the code the service names, without its namespace, and does not try again a refusal another try would meet', async () => {
    // Prepare
    const { endpoint, seen } = await service([
      { status: 400, body: '{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}' },
    ]);
    const dynamodb = new AwsJsonClient(dynamodbService, { region: 'eu-west-1', endpoint, credentials, maxAttempts: 5 });

    // Act
    const error = await dynamodb.call('UpdateItem', {}).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(isAwsError(error, 'ConditionalCheckFailedException')).toBe(true);
    expect(error).toMatchObject({ name: 'ConditionalCheckFailedException', statusCode: 400, message: 'dynamodb UpdateItem: ConditionalCheckFailedException (The conditional request failed)' });
    expect(seen).toHaveLength(1);
  });

  it('takes the code from x-amzn-ErrorType when the body has none, and names the status when neither does', async () => {
    const { endpoint } = await service([
      { status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/' }, body: '{"Message":"not allowed"}' },
      { status: 404, body: '<html>not here</html>' },
    ]);
    const client = new AwsJsonClient(dynamodbService, { region: 'eu-west-1', endpoint, credentials });

    await expect(client.call('GetItem', {})).rejects.toMatchObject({ code: 'AccessDeniedException', message: 'dynamodb GetItem: AccessDeniedException (not allowed)' });
    await expect(client.call('GetItem', {})).rejects.toMatchObject({ code: 'HTTP404', statusCode: 404 });
  });

  it('tries again when throttled, when the service fails (5xx) and when the connection drops, until it succeeds', async () => {
    // Prepare
    const { endpoint, seen } = await service([
      { status: 400, body: '{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}' },
      { status: 500, body: '{"__type":"InternalServerError"}' },
      null,
      { status: 200, body: '{}' },
    ]);

    // Act
    const answer = await new AwsJsonClient(dynamodbService, { region: 'eu-west-1', endpoint, credentials, maxAttempts: 4 }).call('PutItem', { TableName: 't' });

    // Assess
    expect(answer).toEqual({});
    expect(seen.map((request) => request.body)).toEqual(Array(4).fill('{"TableName":"t"}'));
  });

  it('gives up after its tries with the last refusal', async () => {
    const { endpoint, seen } = await service([{ status: 400, body: '{"__type":"ThrottlingException","message":"Rate exceeded"}' }]);

    const calling = new AwsJsonClient(dynamodbService, { region: 'eu-west-1', endpoint, credentials, maxAttempts: 3 }).call('Query', {});

    await expect(calling).rejects.toMatchObject({ code: 'ThrottlingException' });
    expect(seen).toHaveLength(3);
  });

  it('gives up a try that gets no answer in time and tries again', async () => {
    // Prepare: the first request is never answered (a connection that died unseen).
    const seen: string[] = [];
    server = createServer((request, response) => {
      seen.push(request.headers['x-amz-target'] as string);
      if (seen.length === 1) return;
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"Count":0}');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dynamodb = new AwsJsonClient(dynamodbService, { region: 'eu-west-1', endpoint, credentials, attemptTimeoutMs: 200 });

    // Act
    const answer = await dynamodb.call('Query', {});

    // Assess
    expect(answer).toEqual({ Count: 0 });
    expect(seen).toEqual(['DynamoDB_20120810.Query', 'DynamoDB_20120810.Query']);
  });

  it('names the call and the wait when no try gets an answer in time', async () => {
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const calling = new AwsJsonClient(dynamodbService, { region: 'eu-west-1', endpoint, credentials, attemptTimeoutMs: 100, maxAttempts: 2 }).call('GetItem', {});

    await expect(calling).rejects.toThrow('dynamodb GetItem: no answer within 100 ms');
  });

  it('stops at once when the caller aborts, without trying again', async () => {
    const { endpoint, seen } = await service([null]);
    const controller = new AbortController();
    const client = new AwsJsonClient(dynamodbService, { region: 'eu-west-1', endpoint, credentials, maxAttempts: 5 });

    controller.abort(new Error('stop'));
    await expect(client.call('GetItem', {}, controller.signal)).rejects.toThrow();

    expect(seen).toHaveLength(0);
  });
});
