import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** Invokes the function behind the API with one request. */
export type ApiHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface HttpGateway {
  readonly url: string;
  close(): Promise<void>;
}

/** Bodies above this are cut off here, as API Gateway's 10 MB payload limit would. */
const maxBody = 10 * 1024 * 1024;

/**
 * The developer's machine is not a public API: a web page the developer visits must not be able
 * to post to it (a cross-site form can send text/plain but not application/json), nor reach it
 * through a name that rebinds to 127.0.0.1 (its Host header would be that name). Undefined when
 * the request may pass, else the status and message to refuse it with.
 */
function refusal(method: string, headers: Record<string, string | string[] | undefined>): { status: number; message: string } | undefined {
  const host = String(headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
    return { status: 403, message: `the local API answers requests to 127.0.0.1 or localhost only, not to '${host}'` };
  }
  const type = String(headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (method === 'POST' && type !== 'application/json') {
    return { status: 415, message: 'send the request body as application/json' };
  }
  return undefined;
}

/**
 * What API Gateway's Lambda proxy integration does, for the local runtime: each HTTP request
 * becomes a REST proxy event for the real ingress handler, and its result the HTTP answer.
 */
export async function startHttpGateway(handler: ApiHandler, port: number): Promise<HttpGateway> {
  const server: Server = createServer((request, response) => {
    const refused = refusal(request.method ?? 'GET', request.headers);
    if (refused) {
      request.resume();
      response.writeHead(refused.status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: refused.message }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBody) chunks.push(chunk);
    });
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://local');
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')]));
      const event = {
        httpMethod: request.method ?? 'GET',
        path: url.pathname,
        resource: url.pathname,
        headers,
        multiValueHeaders: {},
        queryStringParameters: url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
        multiValueQueryStringParameters: null,
        pathParameters: null,
        stageVariables: null,
        body: size > maxBody ? null : Buffer.concat(chunks).toString(),
        isBase64Encoded: false,
        requestContext: { requestId: crypto.randomUUID(), stage: 'local' },
      } as unknown as APIGatewayProxyEvent;
      if (size > maxBody) {
        response.writeHead(413, { 'content-type': 'application/json' }).end('{"message":"Request Too Long"}');
        return;
      }
      handler(event).then(
        (result) => {
          response.writeHead(result.statusCode, result.headers as Record<string, string>);
          response.end(result.body);
        },
        () => {
          response.writeHead(502, { 'content-type': 'application/json' }).end('{"message":"Internal server error"}');
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
