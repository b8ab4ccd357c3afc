import { startYouTubeFake, youtubeScopes } from '../../fakes/youtube.ts';
import { startHttpFaultProxy, type HttpFault, type RequestHead } from '../../support/fault-proxy/http-fault-proxy.ts';
import { peakConcurrentUploads, uploadBytes, type FaultDestination } from './fault-destination.ts';

const token = 'ya29.fault-run-token';

/** Chunks of a resumable session carry the file's bytes. */
function isUpload(head: RequestHead): boolean {
  return head.method === 'PUT' && head.path === '/upload/youtube/v3/videos' && (head.headers['content-length'] ?? '0') !== '0';
}

/** The chunk that ends the file (`bytes A-B/TOTAL` with B + 1 = TOTAL) makes the video. */
function isCommit(head: RequestHead): boolean {
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(head.headers['content-range'] ?? ''));
  return head.method === 'PUT' && range !== null && Number(range[2]) + 1 === Number(range[3]);
}

function googleError(status: number, reason: string, message: string, retryAfterSeconds?: number): HttpFault {
  return {
    kind: 'answer',
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...(retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }) },
    body: JSON.stringify({ error: { code: status, message, errors: [{ message, domain: reason === 'rateLimitExceeded' ? 'youtube.quota' : 'global', reason }] } }),
  };
}

/** YouTube: the protocol-faithful fake, its session URIs naming the proxy so every chunk passes it. */
export async function startYouTubeDestination(): Promise<FaultDestination> {
  const proxy = await startHttpFaultProxy();
  const youtube = await startYouTubeFake({ publicUrl: proxy.url, dailyUploadQuota: 100_000 });
  proxy.setUpstream(Number(new URL(youtube.url).port));
  youtube.tokens.grantAccess(token, { scopes: [youtubeScopes.upload], expiresInSeconds: 7 * 86_400 });
  const videosTitled = (name: string) => [...youtube.videos.values()].filter((video) => video.metadata.snippet.title === name);
  return {
    type: 'youtube',
    environment: { UD_YOUTUBE_API_URL: proxy.url, UD_GOOGLE_TOKEN_URL: `${proxy.url}/token` },
    destination: (name) => ({ type: 'youtube', title: name, description: 'A delivery of the fault run.', status: 'private', oauth_access_token: token }),
    landed: async (name) => {
      const videos = videosTitled(name);
      return { writes: videos.length, sha256: await videos.at(-1)?.bytes.sha256() };
    },
    leftovers: async () =>
      [...youtube.sessions.values()]
        .filter((session) => session.videoId === undefined && !session.cancelled && !session.expired)
        .map((session) => `open upload session ${session.id} of "${session.metadata.snippet.title}" (${session.committed} bytes kept)`),
    mark: () => proxy.exchanges.length,
    uploadBytesSince: (mark) => uploadBytes(proxy, mark, isUpload),
    peakConcurrentUploadsSince: (mark) =>
      peakConcurrentUploads(proxy.exchanges.slice(mark), (exchange) => (isUpload(exchange) ? (exchange.query.get('upload_id') ?? undefined) : undefined)),
    faults: {
      kind: 'http',
      proxy,
      isUpload,
      isCommit,
      unavailable: (status) => (status === 500 ? googleError(500, 'internalError', 'Internal Error') : googleError(503, 'backendError', 'Backend Error')),
      throttled: (seconds) => googleError(429, 'rateLimitExceeded', 'Rate Limit Exceeded', seconds),
    },
    close: async () => {
      await proxy.close();
      await youtube.close();
    },
  };
}
