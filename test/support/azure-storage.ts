import { BlobServiceClient, RestError } from '@azure/storage-blob';
import { createHash } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAzurite, type TestAzurite } from './servers/azurite.ts';

/** One request as it reached Azurite through the front, for tests that check what was sent. */
export interface RecordedAzureRequest {
  readonly method: string;
  /** The decoded path after the account: `/<container>/<blob name>`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Body bytes the front received (and passed on, unless a fault answered instead). */
  bodyBytes: number;
  /** MD5 of the body, base64, once it has been received whole. */
  bodyMd5: string | undefined;
}

/** Which requests a fault answers: by method and `comp` (`block`, `blocklist`; none for Put Blob and Delete). */
export interface AzureRequestMatch {
  readonly method?: string;
  readonly comp?: string | null;
}

/** An error answer armed for the next matching requests, as the Blob service sends one. */
export interface ArmedAzureFault extends AzureRequestMatch {
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds?: number;
  /** @default 1 */
  readonly times?: number;
  /** Answer as soon as the request's headers arrive, then close the connection without reading the body, as a service refusing a large upload may. */
  readonly beforeBody?: boolean;
}

/**
 * Azurite behind a small recording front on 127.0.0.1: every request is recorded (with the body
 * bytes it carried) and passed on, unless a test armed an error answer for it (a 503 `ServerBusy`
 * with `Retry-After`, an immutability refusal…), which Azurite cannot be made to give.
 */
export interface TestAzure {
  readonly azurite: TestAzurite;
  /** The front's Blob service URL: `http://127.0.0.1:PORT/devstoreaccount1`. */
  readonly blobEndpoint: string;
  readonly account: string;
  readonly accountKey: string;
  /** A connection string naming the front. */
  readonly connectionString: string;
  /** A client that talks to Azurite directly (not through the front), to set up and read back. */
  readonly service: BlobServiceClient;
  readonly requests: RecordedAzureRequest[];
  failNext(fault: ArmedAzureFault): void;
  /** The bytes stored under `name`, or undefined when no blob is there. */
  read(container: string, name: string): Promise<Buffer | undefined>;
  /** Blobs of `container` holding uncommitted blocks, as `name: N uncommitted blocks`. */
  leftovers(container: string): Promise<string[]>;
  close(): Promise<void>;
}

function errorXml(code: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>armed by the test\nRequestId:00000000-0000-0000-0000-000000000000\nTime:${new Date().toISOString()}</Message></Error>`;
}

function matches(match: AzureRequestMatch, request: RecordedAzureRequest): boolean {
  return (match.method === undefined || match.method === request.method) && (match.comp === undefined || match.comp === request.query.get('comp'));
}

/** Starts Azurite and its front, and creates `containers`. */
export async function startTestAzure(containers: readonly string[]): Promise<TestAzure> {
  const azurite = await startAzurite();
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  for (const container of containers) await service.createContainer(container);
  const requests: RecordedAzureRequest[] = [];
  const faults: (ArmedAzureFault & { remaining: number })[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    const upstream = httpRequest(
      { host: '127.0.0.1', port: azurite.port, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.once('error', () => outgoing.destroy());
    incoming.once('aborted', () => upstream.destroy());
    incoming.pipe(upstream);
  };

  const record = (incoming: IncomingMessage, recorded: RecordedAzureRequest): void => {
    const md5 = createHash('md5');
    incoming.on('data', (chunk: Buffer) => {
      recorded.bodyBytes += chunk.length;
      md5.update(chunk);
    });
    incoming.once('end', () => {
      recorded.bodyMd5 = md5.digest('base64');
    });
  };

  const server = createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://front');
    const recorded: RecordedAzureRequest = {
      method: incoming.method ?? 'GET',
      path: decodeURIComponent(url.pathname.replace(`/${azurite.account}`, '')),
      query: url.searchParams,
      headers: incoming.headers,
      bodyBytes: 0,
      bodyMd5: undefined,
    };
    requests.push(recorded);
    record(incoming, recorded);
    const fault = faults.find((armed) => armed.remaining > 0 && matches(armed, recorded));
    if (!fault) {
      forward(incoming, outgoing);
      return;
    }
    fault.remaining -= 1;
    const answer = (): void => {
      outgoing.writeHead(fault.status, {
        'content-type': 'application/xml',
        'x-ms-error-code': fault.code,
        'x-ms-request-id': '00000000-0000-0000-0000-000000000000',
        ...(fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) }),
        ...(fault.beforeBody ? { connection: 'close' } : {}),
      });
      outgoing.end(errorXml(fault.code), () => {
        if (fault.beforeBody) incoming.socket.destroy();
      });
    };
    if (fault.beforeBody) answer();
    else incoming.once('end', answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const blobEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${azurite.account}`;

  return {
    azurite,
    blobEndpoint,
    account: azurite.account,
    accountKey: azurite.accountKey,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${azurite.account};AccountKey=${azurite.accountKey};BlobEndpoint=${blobEndpoint};`,
    service,
    requests,
    failNext: (fault) => {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    read: async (container, name) => {
      try {
        return await service.getContainerClient(container).getBlockBlobClient(name).downloadToBuffer();
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
      }
    },
    leftovers: async (container) => {
      const found: string[] = [];
      const client = service.getContainerClient(container);
      for await (const blob of client.listBlobsFlat({ includeUncommitedBlobs: true })) {
        const { uncommittedBlocks } = await client.getBlockBlobClient(blob.name).getBlockList('uncommitted');
        if ((uncommittedBlocks?.length ?? 0) > 0) found.push(`${blob.name}: ${uncommittedBlocks!.length} uncommitted blocks`);
      }
      return found;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
      await azurite.close();
    },
  };
}
