import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Invokes a local function by name with one event; undefined when there is no such function. */
export type InvokeByName = (functionName: string, event: unknown) => Promise<unknown> | undefined;

export interface LocalLambdaApi {
  /** `http://127.0.0.1:PORT`, the endpoint an AWS SDK Lambda client is given. */
  readonly endpoint: string;
  close(): Promise<void>;
}

const invocationPath = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

function answer(response: import('node:http').ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/**
 * Lambda's Invoke API (RequestResponse) for the local runtime, so the ingress invokes a destination
 * function through the AWS SDK as it does in AWS: `POST /2015-03-31/functions/{name}/invocations`
 * runs the local function and answers its result, or its error the way Lambda reports a function
 * error (`X-Amz-Function-Error: Unhandled`).
 */
export async function startLocalLambdaApi(invoke: InvokeByName): Promise<LocalLambdaApi> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const name = invocationPath.exec(new URL(request.url ?? '/', 'http://local').pathname)?.[1];
      if (request.method !== 'POST' || name === undefined) {
        answer(response, 404, { message: 'only Invoke is served here' }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
        return;
      }
      let event: unknown;
      try {
        event = JSON.parse(Buffer.concat(chunks).toString() || 'null');
      } catch {
        answer(response, 400, { message: 'the payload is not JSON' }, { 'x-amzn-errortype': 'InvalidRequestContentException' });
        return;
      }
      const running = invoke(decodeURIComponent(name), event);
      if (!running) {
        answer(response, 404, { message: `Function not found: ${name}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
        return;
      }
      running.then(
        (result) => answer(response, 200, result ?? null, { 'x-amz-executed-version': '$LATEST' }),
        (error: unknown) =>
          answer(response, 200, { errorType: 'Error', errorMessage: error instanceof Error ? error.message : String(error) }, { 'x-amz-function-error': 'Unhandled' }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
