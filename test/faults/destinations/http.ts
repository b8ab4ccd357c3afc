import { startTestUploadServer, type ReceivedRequest } from '../../support/servers/http-upload.ts';
import { startHttpFaultProxy, type HttpFault, type RequestHead } from '../../support/fault-proxy/http-fault-proxy.ts';
import { peakConcurrentUploads, requestKey, uploadBytes, type FaultDestination } from './fault-destination.ts';

/** Every upload is a request to `/upload/…` (a form POSTed there, or a PUT under it). */
function isUpload(head: RequestHead): boolean {
  return (head.method === 'POST' || head.method === 'PUT') && head.path.startsWith('/upload');
}

/** The names a request stored, as the server recorded it: the file parts of a form, or a PUT's path. */
function storedNames(request: ReceivedRequest): string[] {
  if (request.method === 'PUT') return [decodeURIComponent(new URL(request.url, 'http://server').pathname.replace(/^\/upload\//, ''))];
  return request.files.map((file) => file.filename);
}

/**
 * Any HTTP endpoint: the upload server (busboy forms, raw PUTs), keeping digests only and
 * honouring `Idempotency-Key` (a server that does not may store a file twice after a lost answer;
 * README). Deliveries alternate between the two methods by name: a form POST to `/upload` and a
 * PUT under `/upload/`.
 */
export async function startHttpDestination(): Promise<FaultDestination> {
  const server = await startTestUploadServer({ digestsOnly: true, idempotencyKeys: true });
  const proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(server.url).port) });
  const usesPut = (name: string): boolean => name.length % 2 === 0;
  const answer = (status: number, retryAfterSeconds?: number): HttpFault => ({
    kind: 'answer',
    status,
    headers: { 'content-type': 'application/json', ...(retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }) },
    body: JSON.stringify({ error: `HTTP ${status} from the fault run` }),
  });
  return {
    type: 'http',
    environment: {},
    destination: (name) =>
      usesPut(name) ? { type: 'http', method: 'PUT', url: `${proxy.url}/upload/`, filename: name } : { type: 'http', method: 'POST', url: `${proxy.url}/upload`, filename: name },
    landed: async (name) => {
      const writes = server.requests.filter((request) => !request.replayed && typeof request.status === 'number' && request.status < 300 && storedNames(request).includes(name)).length;
      return { writes, sha256: server.stored.get(name)?.sha256 };
    },
    // The server keeps a body only once it has arrived whole: partial results show as wrong content, if any.
    leftovers: async () => [],
    mark: () => proxy.exchanges.length,
    // A form's framing (boundaries, part headers) is no file byte: taken off each POST, as the
    // completed forms show it.
    uploadBytesSince: (mark) => {
      const framings = server.requests.flatMap((request) =>
        request.method === 'POST' && request.files.length === 1 ? [Number(request.headers['content-length']) - request.files[0]!.size] : [],
      );
      const framing = framings.length === 0 ? 0 : framings.reduce((sum, each) => sum + each, 0) / framings.length;
      const posts = proxy.exchanges.slice(mark).filter((exchange) => exchange.method === 'POST' && isUpload(exchange) && exchange.requestBytes > 0).length;
      return Math.max(0, Math.round(uploadBytes(proxy, mark, isUpload) - posts * framing));
    },
    peakConcurrentUploadsSince: (mark) =>
      peakConcurrentUploads(proxy.exchanges.slice(mark), (exchange) => (isUpload(exchange) ? requestKey(exchange) : undefined)),
    faults: {
      kind: 'http',
      proxy,
      isUpload,
      isCommit: isUpload,
      unavailable: (status) => answer(status),
      throttled: (seconds) => answer(429, seconds),
    },
    close: async () => {
      await proxy.close();
      await server.close();
    },
  };
}
