import { join } from 'node:path';
import { ConnectionBroken, type Exchange, RequestBodyTooLarge } from './exchange.ts';
import { type FakeServer, type Route, startFakeServer } from './fake-server.ts';
import { answerGraphError, graphDialect, graphErrors, refuseGraphToken } from './graph-errors.ts';
import { randomDigits, randomIdentifier } from './identifiers.ts';
import { StoredBytes } from './stored-bytes.ts';
import { type ScopeRequirement, tokenFromAuthorization, TokenRegistry } from './tokens.ts';

const MiB = 1024 * 1024;

/** The permissions a Page access token needs to publish a video on its Page (Video API guide). */
export const pageVideoPermissions: readonly string[] = ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts'];

/** MIME types the Resumable Upload API takes. */
const uploadFileTypes = new Set(['application/pdf', 'image/jpeg', 'image/jpg', 'image/png', 'video/mp4']);

export interface GraphProfile {
  readonly id: string;
  readonly name: string;
}

export interface FacebookFakeOptions {
  /** The Meta app whose `/uploads` edge opens upload sessions. @default '1234567890123456' */
  readonly appId?: string;
  /** The person user tokens act for. @default a fake user */
  readonly user?: GraphProfile;
  /** Pages videos may be published on. @default one fake Page */
  readonly pages?: readonly GraphProfile[];
  /** Bytes the `upload_phase` flow asks for in each chunk. @default 1 MiB */
  readonly transferChunkBytes?: number;
}

/** A Resumable Upload API session (`upload:…`). */
export interface GraphUploadSession {
  /** The ID as answered, `upload:<id>?sig=<signature>`; the signature travels as a query parameter. */
  readonly id: string;
  readonly fileName: string;
  readonly fileLength: number;
  readonly fileType: string;
  readonly subject: string;
  readonly bytes: StoredBytes;
  /** Bytes received so far: `file_offset`. */
  offset: number;
  expired: boolean;
  /** The file handle, once every byte arrived. */
  handle: string | undefined;
}

/** A session of the older `upload_phase=start|transfer|finish` flow on `/<page>/videos`. */
export interface GraphTransferSession {
  readonly id: string;
  readonly videoId: string;
  readonly pageId: string;
  readonly fileSize: number;
  readonly bytes: StoredBytes;
  offset: number;
  expired: boolean;
}

export interface GraphVideo {
  readonly id: string;
  readonly pageId: string;
  readonly title: string | undefined;
  readonly description: string | undefined;
  readonly createdTime: string;
  /** The publish request's parameters, as sent. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly bytes: StoredBytes;
  /** Which flow made it: a file handle from the Resumable Upload API, or `upload_phase`. */
  readonly flow: 'file-handle' | 'upload-phase';
}

export interface FacebookFake extends FakeServer {
  readonly tokens: TokenRegistry;
  readonly appId: string;
  /** Resumable Upload API sessions, by the ID answered (`upload:…?sig=…`). */
  readonly uploadSessions: ReadonlyMap<string, GraphUploadSession>;
  readonly transferSessions: ReadonlyMap<string, GraphTransferSession>;
  readonly videos: ReadonlyMap<string, GraphVideo>;
  /** Makes a session of either flow, by the ID answered, time out from now on (error 1363030). */
  expireSession(sessionId: string): void;
}

type Parameters = Map<string, string | File>;

/** Query and body parameters together, as Graph reads them; undefined after answering. */
async function readParameters(exchange: Exchange, limitBytes: number): Promise<Parameters | undefined> {
  const parameters: Parameters = new Map(exchange.url.searchParams);
  if (exchange.method !== 'POST') return parameters;
  try {
    for (const [name, value] of await exchange.readForm(limitBytes, { carriesUpload: true })) parameters.set(name, value);
  } catch (error) {
    if (error instanceof ConnectionBroken) return undefined;
    if (!(error instanceof RequestBodyTooLarge)) throw error;
    answerGraphError(exchange, 400, graphErrors.invalidParameter(`The request body is over ${limitBytes} bytes`));
    return undefined;
  }
  return parameters;
}

function text(parameters: Parameters, name: string): string | undefined {
  const value = parameters.get(name);
  return typeof value === 'string' ? value : undefined;
}

function positiveInteger(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) && Number(value) > 0 ? Number(value) : undefined;
}

async function* bytesOf(file: File): AsyncGenerator<Buffer> {
  for await (const part of file.stream()) yield Buffer.from(part);
}

/**
 * Starts a fake of the Graph API video upload surface, with or without a version prefix: the
 * Resumable Upload API (`/<app>/uploads`, `upload:<id>` transfer and status), publishing a handle
 * on `/<page>/videos`, the older `upload_phase=start|transfer|finish` flow, reading a video back
 * and `/me`, with Page permissions and Graph error codes (190/463, 200, 10, 100, 1363030, 1363037).
 */
export async function startFacebookFake(options: FacebookFakeOptions = {}): Promise<FacebookFake> {
  const appId = options.appId ?? '1234567890123456';
  const user = options.user ?? { id: '10000000000001', name: 'Fake User' };
  const pages = new Map((options.pages ?? [{ id: '20000000000001', name: 'Fake Page' }]).map((page) => [page.id, page]));
  const chunkBytes = options.transferChunkBytes ?? MiB;
  const tokens = new TokenRegistry(user.id);
  const uploadSessions = new Map<string, GraphUploadSession>();
  const transferSessions = new Map<string, GraphTransferSession>();
  const videos = new Map<string, GraphVideo>();
  let directory = '';

  const tokenOf = (exchange: Exchange, parameters: Parameters): string | undefined =>
    tokenFromAuthorization(exchange.header('authorization'), ['OAuth', 'Bearer']) ?? text(parameters, 'access_token');

  /** The subject of a token that passed; undefined after answering. */
  const authorize = (exchange: Exchange, parameters: Parameters, requirement: ScopeRequirement = {}): string | undefined => {
    const check = tokens.check(tokenOf(exchange, parameters), requirement);
    return refuseGraphToken(exchange, check) || check.outcome !== 'granted' ? undefined : check.grant.subject;
  };

  const startUploadSession = async (exchange: Exchange, targetId: string): Promise<void> => {
    const parameters = await readParameters(exchange, MiB);
    if (!parameters) return;
    const subject = authorize(exchange, parameters);
    if (subject === undefined) return;
    if (targetId !== appId) return answerGraphError(exchange, 400, graphErrors.unsupportedRequest('POST', targetId));
    // The person must hold a role on the app; a Page token is not a person.
    if (subject !== user.id) return answerGraphError(exchange, 403, graphErrors.appPermission());
    const fileLength = positiveInteger(text(parameters, 'file_length'));
    const fileName = text(parameters, 'file_name');
    const fileType = text(parameters, 'file_type') ?? '';
    if (fileLength === undefined) return answerGraphError(exchange, 400, graphErrors.invalidParameter('The parameter file_length is required and must be a positive integer'));
    if (!fileName) return answerGraphError(exchange, 400, graphErrors.invalidParameter('The parameter file_name is required'));
    if (!uploadFileTypes.has(fileType)) return answerGraphError(exchange, 400, graphErrors.invalidParameter(`Invalid file_type: ${fileType}`));
    const key = Buffer.from(`upload-session:${randomDigits(16)}`).toString('base64url');
    const session: GraphUploadSession = {
      id: `upload:${key}?sig=${randomIdentifier(24)}`,
      fileName,
      fileLength,
      fileType,
      subject,
      bytes: await StoredBytes.create(join(directory, `graph-upload-${key}`)),
      offset: 0,
      expired: false,
      handle: undefined,
    };
    uploadSessions.set(session.id, session);
    exchange.answerJson(200, { id: session.id });
  };

  /** The session of an `upload:<key>` path and its `sig` parameter; undefined after answering. */
  const uploadSessionOf = (exchange: Exchange, key: string, subject: string): GraphUploadSession | undefined => {
    const session = uploadSessions.get(`${key}?sig=${exchange.url.searchParams.get('sig') ?? ''}`);
    if (!session || session.subject !== subject) {
      answerGraphError(exchange, 400, graphErrors.unsupportedRequest(exchange.method, key));
      return undefined;
    }
    if (session.expired) {
      answerGraphError(exchange, 400, graphErrors.uploadTimedOut());
      return undefined;
    }
    return session;
  };

  /**
   * Runs `work` on a session (of either flow) once the work already running on it is done: one
   * writer per session, so a request that arrives while an earlier one is still delivering bytes
   * (or has broken off, not yet noticed) sees the offset that request leaves.
   */
  const sessionWork = new WeakMap<object, Promise<void>>();
  const afterEarlierWork = async (session: object, work: () => Promise<void> | void): Promise<void> => {
    const run = (sessionWork.get(session) ?? Promise.resolve()).then(work);
    sessionWork.set(session, run.catch(() => undefined));
    return run;
  };

  const transferUpload = async (exchange: Exchange, key: string): Promise<void> => {
    const subject = authorize(exchange, new Map(exchange.url.searchParams));
    const session = subject === undefined ? undefined : uploadSessionOf(exchange, key, subject);
    if (!session) return;
    return afterEarlierWork(session, () => transferInOrder(exchange, session));
  };

  const transferInOrder = async (exchange: Exchange, session: GraphUploadSession): Promise<void> => {
    const fileOffset = exchange.header('file_offset');
    if (fileOffset === undefined || !/^\d+$/.test(fileOffset)) return answerGraphError(exchange, 400, graphErrors.invalidParameter('The file_offset header is required'));
    if (Number(fileOffset) !== session.offset) return answerGraphError(exchange, 400, graphErrors.uploadOffset(session.offset, session.fileLength));
    const room = session.fileLength - session.offset;
    if ((exchange.contentLength ?? 0) > room) return answerGraphError(exchange, 400, graphErrors.invalidParameter(`The body is longer than the ${room} bytes left of file_length`));
    const start = session.offset;
    const receipt = await session.bytes.receive(exchange.uploadBody(), start, { limit: room });
    if (receipt.overLimit) {
      await session.bytes.truncate(start);
      return answerGraphError(exchange, 400, graphErrors.invalidParameter(`The body is longer than the ${room} bytes left of file_length`));
    }
    // Meta keeps the bytes of an interrupted request: file_offset tells where to resume.
    session.bytes.accept(start, start + receipt.written);
    session.offset += receipt.written;
    if (receipt.broken) return;
    if (session.offset < session.fileLength) return exchange.answerJson(200, { id: session.id, file_offset: session.offset });
    session.handle ??= `4:${Buffer.from(session.fileName).toString('base64')}:${session.fileType.replace('/', '-')}:${randomIdentifier(48)}`;
    exchange.answerJson(200, { h: session.handle });
  };

  const uploadStatus = async (exchange: Exchange, key: string): Promise<void> => {
    const subject = authorize(exchange, new Map(exchange.url.searchParams));
    const session = subject === undefined ? undefined : uploadSessionOf(exchange, key, subject);
    if (session) return afterEarlierWork(session, () => exchange.answerJson(200, { id: session.id, file_offset: session.offset }));
  };

  const createVideo = (id: string, pageId: string, parameters: Parameters, bytes: StoredBytes, flow: GraphVideo['flow']): GraphVideo => {
    const sent = Object.fromEntries([...parameters].flatMap(([name, value]) => (typeof value === 'string' && name !== 'access_token' ? [[name, value]] : [])));
    const video: GraphVideo = { id, pageId, title: sent.title, description: sent.description, createdTime: new Date().toISOString().replace(/\.\d+Z$/, '+0000'), parameters: sent, bytes, flow };
    videos.set(id, video);
    return video;
  };

  const publishHandle = (exchange: Exchange, pageId: string, parameters: Parameters, handle: string): void => {
    const session = [...uploadSessions.values()].find((candidate) => candidate.handle === handle);
    if (!session) return answerGraphError(exchange, 400, graphErrors.invalidParameter('The video file handle is not valid'));
    const video = createVideo(randomDigits(16), pageId, parameters, session.bytes, 'file-handle');
    exchange.answerJson(200, { id: video.id });
  };

  const transferSessionOf = (exchange: Exchange, parameters: Parameters): GraphTransferSession | undefined => {
    const session = transferSessions.get(text(parameters, 'upload_session_id') ?? '');
    if (!session) answerGraphError(exchange, 400, graphErrors.invalidParameter('Invalid upload_session_id'));
    else if (session.expired) answerGraphError(exchange, 400, graphErrors.uploadTimedOut());
    return session && !session.expired ? session : undefined;
  };
  const nextEnd = (session: GraphTransferSession): number => Math.min(session.offset + chunkBytes, session.fileSize);

  const startPhase = async (exchange: Exchange, pageId: string, parameters: Parameters): Promise<void> => {
    const fileSize = positiveInteger(text(parameters, 'file_size'));
    if (fileSize === undefined) return answerGraphError(exchange, 400, graphErrors.invalidParameter('The parameter file_size is required and must be a positive integer'));
    const id = randomDigits(16);
    const session: GraphTransferSession = { id, videoId: randomDigits(16), pageId, fileSize, bytes: await StoredBytes.create(join(directory, `graph-transfer-${id}`)), offset: 0, expired: false };
    transferSessions.set(id, session);
    exchange.answerJson(200, { video_id: session.videoId, start_offset: '0', end_offset: String(nextEnd(session)), upload_session_id: id });
  };

  const transferPhase = async (exchange: Exchange, parameters: Parameters): Promise<void> => {
    const session = transferSessionOf(exchange, parameters);
    if (!session) return;
    return afterEarlierWork(session, () => transferPhaseInOrder(exchange, session, parameters));
  };

  const transferPhaseInOrder = async (exchange: Exchange, session: GraphTransferSession, parameters: Parameters): Promise<void> => {
    const chunk = parameters.get('video_file_chunk');
    if (!(chunk instanceof File)) return answerGraphError(exchange, 400, graphErrors.invalidParameter('The parameter video_file_chunk is required'));
    const end = nextEnd(session);
    if (text(parameters, 'start_offset') !== String(session.offset) || chunk.size === 0 || session.offset + chunk.size > end) {
      return answerGraphError(exchange, 400, graphErrors.uploadOffset(session.offset, end));
    }
    const start = session.offset;
    const receipt = await session.bytes.receive(bytesOf(chunk), start);
    session.bytes.accept(start, start + receipt.written);
    session.offset += receipt.written;
    exchange.answerJson(200, { start_offset: String(session.offset), end_offset: String(nextEnd(session)) });
  };

  const finishPhase = (exchange: Exchange, parameters: Parameters): void => {
    const session = transferSessionOf(exchange, parameters);
    if (!session) return;
    if (session.offset < session.fileSize) return answerGraphError(exchange, 400, graphErrors.uploadOffset(session.offset, nextEnd(session)));
    // A finish resent after a lost answer succeeds again without a second video.
    if (!videos.has(session.videoId)) createVideo(session.videoId, session.pageId, parameters, session.bytes, 'upload-phase');
    exchange.answerJson(200, { success: true });
  };

  /** `upload_phase=cancel`: the session and its bytes are dropped; it cannot be used again. */
  const cancelPhase = async (exchange: Exchange, parameters: Parameters): Promise<void> => {
    const session = transferSessionOf(exchange, parameters);
    if (!session) return;
    transferSessions.delete(session.id);
    await session.bytes.truncate(0);
    exchange.answerJson(200, { success: true });
  };

  const postVideo = async (exchange: Exchange, targetId: string): Promise<void> => {
    const parameters = await readParameters(exchange, chunkBytes + MiB);
    if (!parameters) return;
    const subject = authorize(exchange, parameters, { allOf: pageVideoPermissions });
    if (subject === undefined) return;
    if (!pages.has(targetId)) return answerGraphError(exchange, 400, graphErrors.unsupportedRequest('POST', targetId));
    if (subject !== targetId) return answerGraphError(exchange, 403, graphErrors.permissionsError('Subject does not have permission to post videos on this target'));
    const phase = text(parameters, 'upload_phase');
    const handle = text(parameters, 'fbuploader_video_file_chunk');
    if (phase === 'start') return startPhase(exchange, targetId, parameters);
    if (phase === 'transfer') return transferPhase(exchange, parameters);
    if (phase === 'finish') return finishPhase(exchange, parameters);
    if (phase === 'cancel') return cancelPhase(exchange, parameters);
    if (handle !== undefined) return publishHandle(exchange, targetId, parameters, handle);
    answerGraphError(exchange, 400, graphErrors.invalidParameter('The fake publishes a file handle (fbuploader_video_file_chunk) or an upload_phase flow only'));
  };

  /**
   * Answers the `fields` asked of a node (its defaults when none), or the nonexisting-field error.
   * With `metadata=1`, Graph adds what kind of node it is (`metadata.type`: `user`, `page`, …).
   */
  const answerFields = (exchange: Exchange, nodeType: string, known: Record<string, unknown>, defaults: readonly string[]): void => {
    const asked = (exchange.url.searchParams.get('fields') ?? defaults.join(',')).split(',').map((field) => field.trim()).filter((field) => field !== '');
    const unknown = asked.find((field) => !(field in known));
    if (unknown !== undefined) return answerGraphError(exchange, 400, graphErrors.nonexistingField(unknown, nodeType));
    const metadata = exchange.url.searchParams.get('metadata') === '1' ? { metadata: { type: nodeType.toLowerCase() } } : {};
    exchange.answerJson(200, { ...Object.fromEntries(['id', ...asked].map((field) => [field, known[field]])), ...metadata });
  };

  const readMe = (exchange: Exchange): void => {
    const subject = authorize(exchange, new Map(exchange.url.searchParams));
    if (subject === undefined) return;
    const page = pages.get(subject);
    const profile = page ?? user;
    answerFields(exchange, page ? 'Page' : 'User', { id: profile.id, name: profile.name }, ['name']);
  };

  /** `GET /app`: the app the token was issued for (every token of the fake is its app's). */
  const readApp = (exchange: Exchange): void => {
    if (authorize(exchange, new Map(exchange.url.searchParams)) === undefined) return;
    answerFields(exchange, 'Application', { id: appId, name: 'Fake App', link: `https://www.facebook.com/games/?app_id=${appId}` }, ['link', 'name']);
  };

  /**
   * A Page read by its ID. Its `access_token` field is how a person (or system user) with a role on
   * the Page gets a Page token: it carries the permissions of the token that asked. A Page token
   * reads its own Page only.
   */
  const readPage = (exchange: Exchange, page: GraphProfile, subject: string): void => {
    if (subject !== user.id && subject !== page.id) return answerGraphError(exchange, 400, graphErrors.unsupportedRequest('GET', page.id));
    const asking = tokenOf(exchange, new Map(exchange.url.searchParams)) ?? '';
    const check = tokens.check(asking);
    const scopes = check.outcome === 'granted' ? [...check.grant.scopes] : [];
    const pageToken = (): string => {
      if (subject === page.id) return asking;
      const minted = `page-${randomIdentifier(32)}`;
      tokens.grantAccess(minted, { subject: page.id, scopes });
      return minted;
    };
    const wantsToken = (exchange.url.searchParams.get('fields') ?? '').split(',').some((field) => field.trim() === 'access_token');
    answerFields(exchange, 'Page', { id: page.id, name: page.name, access_token: wantsToken ? pageToken() : undefined }, ['name']);
  };

  const readNode = (exchange: Exchange, id: string): void => {
    const subject = authorize(exchange, new Map(exchange.url.searchParams));
    if (subject === undefined) return;
    const asPage = pages.get(id);
    if (asPage) return readPage(exchange, asPage, subject);
    const video = videos.get(id);
    if (!video || (subject !== video.pageId && subject !== user.id)) return answerGraphError(exchange, 400, graphErrors.unsupportedRequest('GET', id));
    const page = pages.get(video.pageId);
    answerFields(
      exchange,
      'Video',
      {
        id: video.id,
        title: video.title,
        description: video.description,
        created_time: video.createdTime,
        updated_time: video.createdTime,
        published: true,
        permalink_url: `/${video.pageId}/videos/${video.id}/`,
        from: page ? { id: page.id, name: page.name } : undefined,
        status: { video_status: 'ready', uploading_phase: { status: 'complete' }, processing_phase: { status: 'complete' }, publishing_phase: { status: 'complete' } },
      },
      ['description', 'updated_time'],
    );
  };

  /**
   * `GET /<page>/videos`: the Page's videos, newest first (`since`, a Unix time, keeps those
   * created at or after it; `limit`, 25 by default, at most 100), each with the `fields` asked
   * (`id`, `description` and `updated_time` by default). A Page token reads its own Page, with
   * `pages_read_engagement`.
   */
  const listVideos = (exchange: Exchange, pageId: string): void => {
    const query = exchange.url.searchParams;
    const subject = authorize(exchange, new Map(query), { allOf: ['pages_read_engagement'] });
    if (subject === undefined) return;
    if (!pages.has(pageId)) return answerGraphError(exchange, 400, graphErrors.unsupportedRequest('GET', pageId));
    if (subject !== pageId) return answerGraphError(exchange, 403, graphErrors.permissionsError('A Page access token of this Page is required to read its videos'));
    const since = Number(query.get('since') ?? 0);
    const limit = Math.min(100, Number(query.get('limit') ?? 25));
    const fields = (query.get('fields') ?? 'description,updated_time').split(',').map((field) => field.trim()).filter((field) => field !== '');
    const listed = [...videos.values()]
      .filter((video) => video.pageId === pageId && Date.parse(video.createdTime.replace(/\+0000$/, 'Z')) / 1000 >= since)
      .reverse()
      .slice(0, limit)
      .map((video) => {
        const known: Record<string, unknown> = { id: video.id, title: video.title, description: video.description, created_time: video.createdTime, updated_time: video.createdTime };
        return Object.fromEntries(['id', ...fields].filter((field) => known[field] !== undefined).map((field) => [field, known[field]]));
      });
    exchange.answerJson(200, { data: listed, paging: {} });
  };

  const routes: Route[] = [
    { endpoint: 'me', method: 'GET', path: /^\/me$/, handle: readMe },
    { endpoint: 'app', method: 'GET', path: /^\/app$/, handle: readApp },
    { endpoint: 'uploads.start', method: 'POST', path: /^\/([^/]+)\/uploads$/, handle: startUploadSession },
    { endpoint: 'uploads.transfer', method: 'POST', path: /^\/(upload:[^/]+)$/, handle: transferUpload },
    { endpoint: 'uploads.status', method: 'GET', path: /^\/(upload:[^/]+)$/, handle: uploadStatus },
    { endpoint: 'videos', method: 'POST', path: /^\/([^/]+)\/videos$/, handle: postVideo },
    { endpoint: 'videos.list', method: 'GET', path: /^\/([^/]+)\/videos$/, handle: listVideos },
    { endpoint: 'node', method: 'GET', path: /^\/([^/]+)$/, handle: readNode },
  ];
  const server = await startFakeServer(routes, graphDialect);
  directory = server.directory;

  return {
    url: server.url,
    requests: server.requests,
    requestCount: server.requestCount,
    faults: server.faults,
    close: server.close,
    tokens,
    appId,
    uploadSessions,
    transferSessions,
    videos,
    expireSession: (sessionId) => {
      const session = uploadSessions.get(sessionId) ?? transferSessions.get(sessionId);
      if (session) session.expired = true;
    },
  };
}
