import { multipartChunk } from '../../../functions/destinations/facebook/multipart-chunk.ts';
import { pageVideoPermissions, startFacebookFake, type FacebookFake } from '../../fakes/facebook.ts';
import { startHttpFaultProxy, type HttpFault, type ProxiedExchange, type RequestHead } from '../../support/fault-proxy/http-fault-proxy.ts';
import { deliveryNumber, peakConcurrentUploads, requestKey, type FaultDestination } from './fault-destination.ts';

const MiB = 1024 * 1024;
const pageId = '20000000000001';
/** A Page access token: the destination uploads through the Page's `upload_phase` flow. */
const pageToken = 'fault-run-page-token';
/** A person's token with `page_id`: the Resumable Upload API, the handle published with a Page token Graph gives for it. */
const userToken = 'fault-run-user-token';

/** The Graph API version prefix the destination puts on every path, taken off. */
function graphPath(head: RequestHead): string {
  return head.path.replace(/^\/v\d+\.\d+(?=\/)/, '');
}

/** A chunk of the Page's flow (multipart, on `/<page>/videos`) or a Resumable Upload API transfer (`/upload:<id>`). */
function isUpload(head: RequestHead): boolean {
  if (head.method !== 'POST') return false;
  const path = graphPath(head);
  if (path.startsWith('/upload:')) return Number(head.headers['content-length'] ?? 0) > 0;
  return path === `/${pageId}/videos` && /^multipart\/form-data\b/i.test(String(head.headers['content-type'] ?? ''));
}

/** The form the Page's `/videos` edge was sent, when it was URL-encoded (the proxy reads it: `readForms`). */
function videosForm(head: RequestHead): URLSearchParams | undefined {
  return head.method === 'POST' && graphPath(head) === `/${pageId}/videos` ? head.form : undefined;
}

/** The Resumable Upload API's publish of a file handle: each one makes a video. */
function isPublish(head: RequestHead): boolean {
  return videosForm(head)?.has('fbuploader_video_file_chunk') === true;
}

/** The Page flow's `upload_phase=finish` and the handle's publish make the video. */
function isCommit(head: RequestHead): boolean {
  return videosForm(head)?.get('upload_phase') === 'finish' || isPublish(head);
}

/**
 * A form chunk's framing (boundary, the flow's fields, the part's headers), as the destination
 * builds it: taken off each chunk's bytes, within a few bytes (the offset's digits vary).
 */
const chunkFraming = multipartChunk({ upload_phase: 'transfer', upload_session_id: '0'.repeat(16), start_offset: '0'.repeat(8) }, { field: 'video_file_chunk', bytes: Buffer.alloc(0) }).length;

/** File bytes an upload request carried to the fake. */
function fileBytesOf(exchange: ProxiedExchange): number {
  if (!isUpload(exchange)) return 0;
  return graphPath(exchange).startsWith('/upload:') ? exchange.requestBytes : Math.max(0, exchange.requestBytes - chunkFraming);
}

const rateLimits = [
  { code: 4, message: '(#4) Application request limit reached' },
  { code: 17, message: '(#17) User request limit reached' },
  { code: 32, message: '(#32) Page request limit reached' },
  { code: 613, message: '(#613) Calls to this api have exceeded the rate limit.' },
];

function graphError(status: number, error: Record<string, unknown>, headers: Record<string, string> = {}): HttpFault {
  return {
    kind: 'answer',
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
    body: JSON.stringify({ error: { type: 'OAuthException', ...error, fbtrace_id: 'FaultRun0000' } }),
  };
}

/**
 * Open sessions of either flow holding bytes: neither made into a video nor cancelled (nor
 * expired, as Meta expires them). A session holding no byte is no partial result: it is what an
 * attempt that ended between the session's start and the job table's write leaves (README: limits).
 */
function openSessions(facebook: FacebookFake): string[] {
  const videoBytes = new Set([...facebook.videos.values()].map((video) => video.bytes));
  return [
    ...[...facebook.transferSessions.values()]
      .filter((session) => !session.expired && session.offset > 0 && !facebook.videos.has(session.videoId))
      .map((session) => `open upload_phase session ${session.id} (${session.offset} of ${session.fileSize} bytes kept)`),
    ...[...facebook.uploadSessions.values()]
      .filter((session) => !session.expired && session.offset > 0 && !videoBytes.has(session.bytes))
      .map((session) => `open upload session ${session.id.split('?')[0]} of ${session.fileName} (${session.offset} of ${session.fileLength} bytes kept${session.handle ? ', never published' : ''})`),
  ];
}

/**
 * Facebook: the Meta Graph fake behind the proxy, a Page to publish on. Deliveries whose name ends
 * in an odd number upload with a Page token (the `upload_phase` flow), the others with a person's
 * token and `page_id` (the Resumable Upload API and a publish), so both flows meet every fault.
 */
export async function startFacebookDestination(): Promise<FaultDestination> {
  // Chunks of 4 MiB: a crash or a restart finds a chunk under way (Graph names each chunk's size).
  const facebook = await startFacebookFake({ pages: [{ id: pageId, name: 'Fault Run Page' }], transferChunkBytes: 4 * MiB });
  facebook.tokens.grantAccess(pageToken, { subject: pageId, scopes: pageVideoPermissions });
  facebook.tokens.grantAccess(userToken, { scopes: pageVideoPermissions });
  const proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(facebook.url).port), readForms: true });
  const videosTitled = (name: string) => [...facebook.videos.values()].filter((video) => video.title === name);
  let throttles = 0;
  return {
    type: 'facebook',
    environment: {},
    destination: (name) => {
      const pageFlow = deliveryNumber(name) % 2 === 1;
      return {
        type: 'facebook',
        title: name,
        description: 'A delivery of the fault run.',
        endpoint: proxy.url,
        ...(pageFlow ? { oauth_access_token: pageToken } : { oauth_access_token: userToken, page_id: pageId }),
      };
    },
    landed: async (name) => {
      const videos = videosTitled(name);
      return { writes: videos.length, sha256: await videos.at(-1)?.bytes.sha256() };
    },
    leftovers: async () => openSessions(facebook),
    mark: () => proxy.exchanges.length,
    uploadBytesSince: (mark) => proxy.exchanges.slice(mark).reduce((sum, exchange) => sum + fileBytesOf(exchange), 0),
    peakConcurrentUploadsSince: (mark) =>
      peakConcurrentUploads(proxy.exchanges.slice(mark), (exchange) => {
        if (!isUpload(exchange)) return undefined;
        // A Resumable Upload API session is in its path; a Page flow chunk names its session in its body.
        const path = graphPath(exchange);
        return path.startsWith('/upload:') ? path : requestKey(exchange);
      }),
    faults: {
      kind: 'http',
      proxy,
      isUpload,
      isCommit,
      // Graph's own: code 1 (unknown error) and 2 (service temporarily unavailable), marked transient.
      unavailable: (status) =>
        status === 500
          ? graphError(500, { message: 'An unknown error has occurred.', code: 1, is_transient: true })
          : graphError(503, { message: 'An unexpected error has occurred. Please retry your request later.', code: 2, is_transient: true }),
      // Graph throttles with error codes on HTTP 400 and no Retry-After (its usage headers say how busy the app is).
      throttled: () => {
        const limit = rateLimits[throttles++ % rateLimits.length]!;
        return graphError(400, { message: limit.message, code: limit.code, is_transient: true }, { 'x-app-usage': JSON.stringify({ call_count: 100, total_cputime: 25, total_time: 25 }) });
      },
    },
    close: async () => {
      await proxy.close();
      await facebook.close();
    },
  };
}
