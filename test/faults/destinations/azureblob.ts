import { RestError } from '@azure/storage-blob';
import type { Readable } from 'node:stream';
import { startTestAzure } from '../../support/azure-storage.ts';
import { startHttpFaultProxy, type HttpFault, type RequestHead } from '../../support/fault-proxy/http-fault-proxy.ts';
import { sha256OfStream } from './digest.ts';
import { peakConcurrentUploads, succeeded, uploadBytes, type FaultDestination } from './fault-destination.ts';

const container = 'faults';

/** The blob a request addresses: the path after `/<account>/<container>/`. */
function blobOf(head: RequestHead): string {
  const [, , , ...name] = head.path.split('/');
  return name.map((segment) => decodeURIComponent(segment)).join('/');
}

/** Put Blob and Put Block carry the file's bytes. */
function isUpload(head: RequestHead): boolean {
  const comp = head.query.get('comp');
  return head.method === 'PUT' && blobOf(head) !== '' && (comp === null || comp === 'block');
}

/** Put Blob and Put Block List make the blob. */
function isCommit(head: RequestHead): boolean {
  const comp = head.query.get('comp');
  return head.method === 'PUT' && blobOf(head) !== '' && (comp === null || comp === 'blocklist');
}

function azureError(status: number, code: string, retryAfterSeconds?: number): HttpFault {
  return {
    kind: 'answer',
    status,
    headers: {
      'content-type': 'application/xml',
      'x-ms-error-code': code,
      'x-ms-request-id': '00000000-0000-0000-0000-000000000000',
      ...(retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }),
    },
    body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>fault run\nRequestId:00000000-0000-0000-0000-000000000000</Message></Error>`,
  };
}

/** Azure Blob: Azurite behind its recording front, a container of its own. */
export async function startAzureBlobDestination(): Promise<FaultDestination> {
  const azure = await startTestAzure([container]);
  const proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(azure.blobEndpoint).port) });
  const blobs = azure.service.getContainerClient(container);
  return {
    type: 'azureblob',
    environment: {},
    destination: (name) => ({ type: 'azureblob', account: azure.account, key: azure.accountKey, container, filename: name, endpoint: `${proxy.url}/${azure.account}` }),
    landed: async (name) => {
      const writes = proxy.exchanges.filter((exchange) => isCommit(exchange) && succeeded(exchange) && blobOf(exchange) === name).length;
      try {
        const download = await blobs.getBlockBlobClient(name).download();
        return { writes, sha256: await sha256OfStream(download.readableStreamBody as Readable) };
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return { writes, sha256: undefined };
        throw error;
      }
    },
    leftovers: () => azure.leftovers(container),
    mark: () => proxy.exchanges.length,
    uploadBytesSince: (mark) => uploadBytes(proxy, mark, isUpload),
    peakConcurrentUploadsSince: (mark) => peakConcurrentUploads(proxy.exchanges.slice(mark), (exchange) => (isUpload(exchange) ? blobOf(exchange) : undefined)),
    faults: {
      kind: 'http',
      proxy,
      isUpload,
      isCommit,
      unavailable: (status) => (status === 500 ? azureError(500, 'InternalError') : azureError(503, 'ServerBusy')),
      // Azure Storage throttles with 503 ServerBusy (and sometimes a Retry-After).
      throttled: (seconds) => azureError(503, 'ServerBusy', seconds),
    },
    close: async () => {
      await proxy.close();
      await azure.close();
    },
  };
}
