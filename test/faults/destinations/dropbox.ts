import { startDropboxFake } from '../../fakes/dropbox.ts';
import { dropboxTestToken, grantTestToken, openSessions } from '../../support/dropbox.ts';
import { startHttpFaultProxy, type HttpFault, type RequestHead } from '../../support/fault-proxy/http-fault-proxy.ts';
import { peakConcurrentUploads, requestKey, succeeded, uploadBytes, type FaultDestination } from './fault-destination.ts';

const folder = '/faults';
const contentEndpoints = new Set(['/2/files/upload', '/2/files/upload_session/start', '/2/files/upload_session/append_v2', '/2/files/upload_session/finish']);
const commitEndpoints = new Set(['/2/files/upload', '/2/files/upload_session/finish']);

/** The JSON argument of a content request (`Dropbox-API-Arg`). */
function argumentOf(head: RequestHead): Record<string, any> {
  try {
    return JSON.parse(String(head.headers['dropbox-api-arg'] ?? '{}')) as Record<string, any>;
  } catch {
    return {};
  }
}

function isUpload(head: RequestHead): boolean {
  return head.method === 'POST' && contentEndpoints.has(head.path);
}

function isCommit(head: RequestHead): boolean {
  return head.method === 'POST' && commitEndpoints.has(head.path);
}

/** The path a commit writes to, lower case. */
function committedPath(head: RequestHead): string | undefined {
  const argument = argumentOf(head);
  const path = head.path === '/2/files/upload' ? argument.path : argument.commit?.path;
  return typeof path === 'string' ? path.toLowerCase() : undefined;
}

/** Which upload a content request belongs to: its session, or its path. */
function uploadOf(head: RequestHead): string | undefined {
  if (!isUpload(head)) return undefined;
  const argument = argumentOf(head);
  const session = argument.cursor?.session_id;
  if (typeof session === 'string') return session;
  // A session's start has no ID yet: it is an upload of its own until its answer names one.
  return committedPath(head) ?? requestKey(head);
}

/** Dropbox: the protocol-faithful fake, reached through the proxy for its API and content hosts alike. */
export async function startDropboxDestination(): Promise<FaultDestination> {
  const dropbox = await startDropboxFake();
  grantTestToken(dropbox);
  // Commit answers name the revision written: the same content committed again makes none.
  const proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(dropbox.url).port), recordAnswers: isCommit });
  const plainError = (status: number): HttpFault => ({ kind: 'answer', status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Error: the fault run' });
  return {
    type: 'dropbox',
    environment: { UD_DROPBOX_API_URL: proxy.url, UD_DROPBOX_CONTENT_URL: proxy.url },
    destination: (name) => ({ type: 'dropbox', filename: `${folder}/${name}`, oauth_token: dropboxTestToken }),
    landed: async (name) => {
      const path = `${folder}/${name}`.toLowerCase();
      const revisions = new Set(
        proxy.exchanges
          .filter((exchange) => isCommit(exchange) && succeeded(exchange) && committedPath(exchange) === path)
          .map((exchange) => (JSON.parse(exchange.answer ?? '{}') as { rev?: string }).rev),
      );
      const writes = revisions.size;
      const copies = [...dropbox.files.keys()].filter((stored) => stored !== path && stored.startsWith(path.replace(/(\.[^./]*)?$/, ' (')));
      const file = dropbox.file(path);
      return { writes: writes + copies.length, sha256: await file?.bytes.sha256() };
    },
    // What a session holds tells a crash right after its start (empty: the next attempt could not know it) from bytes abandoned.
    leftovers: async () => openSessions(dropbox).map((session) => `open upload session ${session} holding ${dropbox.sessions.get(session)?.length ?? 0} bytes`),
    mark: () => proxy.exchanges.length,
    uploadBytesSince: (mark) => uploadBytes(proxy, mark, isUpload),
    peakConcurrentUploadsSince: (mark) => peakConcurrentUploads(proxy.exchanges.slice(mark), uploadOf),
    faults: {
      kind: 'http',
      proxy,
      isUpload,
      isCommit,
      unavailable: (status) => plainError(status),
      throttled: (seconds) => ({
        kind: 'answer',
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': String(seconds) },
        body: JSON.stringify({ error_summary: 'too_many_requests/..', error: { reason: { '.tag': 'too_many_requests' }, retry_after: seconds } }),
      }),
    },
    close: async () => {
      await proxy.close();
      await dropbox.close();
    },
  };
}
