import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DropboxContentHasher, dropboxContentHashOfFile, dropboxHashBlockBytes } from './dropbox-content-hash.ts';
import { answerBadInput, answerEndpointError, dropboxDialect, refuseDropboxToken, type TaggedUnion } from './dropbox-errors.ts';
import { type CommitInfo, type DropboxFile, DropboxNamespace, fileMetadata, isCommitPlan, sharedLinkUrl } from './dropbox-files.ts';
import type { Exchange } from './exchange.ts';
import { type FakeServer, type Route, startFakeServer } from './fake-server.ts';
import { randomIdentifier } from './identifiers.ts';
import { answerTokenRequest, type OAuthClient } from './oauth-token-endpoint.ts';
import { StoredBytes } from './stored-bytes.ts';
import { tokenFromAuthorization, TokenRegistry } from './tokens.ts';

const MiB = 1024 * 1024;

/** The scopes of the Dropbox API the fake's endpoints need. */
export const dropboxScopes = {
  contentWrite: 'files.content.write',
  metadataRead: 'files.metadata.read',
  sharingWrite: 'sharing.write',
  accountInfoRead: 'account_info.read',
} as const;

export interface DropboxAccount {
  readonly accountId: string;
  readonly email: string;
  readonly displayName: string;
}

export interface DropboxFakeOptions {
  /** OAuth clients `/oauth2/token` accepts. @default [] */
  readonly clients?: readonly OAuthClient[];
  /** @default a fake account */
  readonly account?: DropboxAccount;
  /** The account's space. @default 2 TiB */
  readonly allocatedBytes?: number;
  /** Largest body of one upload request. @default 150 MiB, as documented */
  readonly maxRequestBytes?: number;
  /** Largest file an upload session builds. @default 350 GiB, as documented */
  readonly maxSessionBytes?: number;
  /** Lifetime of access tokens `/oauth2/token` issues. @default 14400 */
  readonly accessTokenLifetimeSeconds?: number;
}

/** An upload session, as the fake holds it. */
export interface DropboxUploadSession {
  readonly id: string;
  /** A concurrent session takes 4 MiB-aligned chunks in any order; a sequential one, chunks in order. */
  readonly concurrent: boolean;
  readonly bytes: StoredBytes;
  /** Sequential: the next offset. Concurrent: the end of the furthest chunk. */
  length: number;
  closed: boolean;
  expired: boolean;
  /** Set once a finish committed it: the session ID is then unknown, as Dropbox forgets it. */
  finishedAs: DropboxFile | undefined;
}

export interface DropboxFake extends FakeServer {
  readonly tokens: TokenRegistry;
  readonly sessions: ReadonlyMap<string, DropboxUploadSession>;
  /** The stored file at `path` (case-insensitive) or `id:…`. */
  file(path: string): DropboxFile | undefined;
  /** Every stored file, by lower-case path. */
  readonly files: ReadonlyMap<string, DropboxFile>;
  /** Makes a session unknown from now on, as one past its 7 days is. */
  expireSession(sessionId: string): void;
}

type Arguments = Record<string, unknown>;

/** Reads the arguments of a content endpoint (`Dropbox-API-Arg` header, or `arg` parameter); undefined after answering 400. */
function contentArguments(exchange: Exchange): Arguments | undefined {
  const contentType = exchange.header('content-type') ?? '';
  if (!/^application\/octet-stream\b/.test(contentType) && contentType !== 'text/plain; charset=dropbox-cors-hack') {
    answerBadInput(exchange, `Bad HTTP "Content-Type" header: "${contentType}".  Expecting one of "application/octet-stream", "text/plain; charset=dropbox-cors-hack".`);
    return undefined;
  }
  const text = exchange.header('dropbox-api-arg') ?? exchange.url.searchParams.get('arg');
  if (text === null || text === undefined) {
    answerBadInput(exchange, 'Must provide HTTP header "Dropbox-API-Arg" or URL parameter "arg".');
    return undefined;
  }
  return parseArguments(exchange, text, 'HTTP header "Dropbox-API-Arg"');
}

/** Reads the JSON body of an RPC endpoint; undefined after answering 400. */
async function rpcArguments(exchange: Exchange): Promise<Arguments | undefined> {
  const text = (await exchange.readSmallBody()).toString();
  const contentType = exchange.header('content-type') ?? '';
  if (text !== '' && !/^application\/json\b/.test(contentType) && contentType !== 'text/plain; charset=dropbox-cors-hack') {
    answerBadInput(exchange, `Bad HTTP "Content-Type" header: "${contentType}".  Expecting one of "application/json", "text/plain; charset=dropbox-cors-hack".`);
    return undefined;
  }
  return parseArguments(exchange, text === '' ? 'null' : text, 'request body');
}

function parseArguments(exchange: Exchange, text: string, where: string): Arguments | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Arguments) : {};
  } catch {
    answerBadInput(exchange, `${where}: could not decode input as JSON`);
    return undefined;
  }
}

/** A required string field; undefined after answering 400 with Dropbox's wording. */
function requiredString(exchange: Exchange, value: unknown, field: string): string | undefined {
  if (typeof value === 'string') return value;
  answerBadInput(exchange, value === undefined ? `missing required field '${field}'` : `${field}: expected string, got ${typeof value}`);
  return undefined;
}

/** The cursor `{ session_id, offset }`; undefined after answering 400. */
function readCursor(exchange: Exchange, value: unknown): { sessionId: string; offset: number } | undefined {
  const cursor = (value ?? {}) as Arguments;
  const sessionId = requiredString(exchange, cursor.session_id, 'cursor.session_id');
  if (sessionId === undefined) return undefined;
  if (typeof cursor.offset !== 'number' || !Number.isInteger(cursor.offset) || cursor.offset < 0) {
    answerBadInput(exchange, cursor.offset === undefined ? "missing required field 'cursor.offset'" : 'cursor.offset: expected a non-negative integer');
    return undefined;
  }
  return { sessionId, offset: cursor.offset };
}

/** `CommitInfo` from `files/upload` arguments or a finish's `commit`; undefined after answering 400. */
function readCommit(exchange: Exchange, value: unknown, field: string): CommitInfo | undefined {
  const commit = (value ?? {}) as Arguments;
  const path = requiredString(exchange, commit.path, `${field}path`);
  if (path === undefined) return undefined;
  if (!/^(\/(.|[\r\n])*|id:.*|ns:[0-9]+(\/.*)?)$/.test(path)) {
    answerBadInput(exchange, `${field}path: '${path}' did not match pattern '(/(.|[\\r\\n])*)|(ns:[0-9]+(/.*)?)|(id:.*)'`);
    return undefined;
  }
  const mode = commit.mode ?? 'add';
  const tag = typeof mode === 'string' ? mode : (mode as TaggedUnion)['.tag'];
  const rev = typeof mode === 'object' ? (mode as Arguments).update : undefined;
  if (tag !== 'add' && tag !== 'overwrite' && !(tag === 'update' && typeof rev === 'string')) {
    answerBadInput(exchange, `${field}mode: unknown tag '${String(tag)}'`);
    return undefined;
  }
  const clientModified = commit.client_modified;
  if (clientModified !== undefined && (typeof clientModified !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(clientModified))) {
    answerBadInput(exchange, `${field}client_modified: time data '${String(clientModified)}' does not match format '%Y-%m-%dT%H:%M:%SZ'`);
    return undefined;
  }
  return {
    path,
    mode: tag === 'update' ? { tag, rev: rev as string } : { tag },
    autorename: commit.autorename === true,
    strictConflict: commit.strict_conflict === true,
    clientModified,
  };
}

/**
 * Starts a fake of the Dropbox API v2 upload surface on one server (the SDK's `api`, `content` and
 * `notify` hosts all map to it): `files/upload`, `upload_session/start|append_v2|finish|finish_batch_v2`
 * (sequential and concurrent sessions), `files/get_metadata`, `files/delete_v2`,
 * `sharing/create_shared_link_with_settings`, `users/get_current_account`, `users/get_space_usage`
 * and `/oauth2/token`, with scopes, write modes, content hashes and the documented error shapes.
 */
export async function startDropboxFake(options: DropboxFakeOptions = {}): Promise<DropboxFake> {
  const account = options.account ?? { accountId: 'dbid:AAFakeAccount0000000000000000000000', email: 'owner@example.com', displayName: 'Fake Owner' };
  const maxRequestBytes = options.maxRequestBytes ?? 150 * MiB;
  const maxSessionBytes = options.maxSessionBytes ?? 350 * 1024 * MiB;
  const tokens = new TokenRegistry(account.accountId);
  const sessions = new Map<string, DropboxUploadSession>();
  let directory = '';
  let namespace = new DropboxNamespace('', 0);

  /** Checks the bearer token for `scope`; false when refused and answered. */
  const authorized = (exchange: Exchange, scope: string): boolean => {
    const authorization = exchange.header('authorization');
    return !refuseDropboxToken(exchange, tokens.check(tokenFromAuthorization(authorization, ['Bearer']), { allOf: [scope] }), authorization);
  };

  /**
   * Runs the requests on one session one at a time, in arrival order. Dropbox takes a request whole
   * or not at all: a request that breaks must never cost the bytes of one that came after it (a
   * client's next attempt may append while its previous, abandoned request is still arriving).
   */
  const sessionTurns = new Map<string, Promise<void>>();
  const inTurn = async (sessionId: string, work: () => Promise<void>): Promise<void> => {
    const previous = sessionTurns.get(sessionId) ?? Promise.resolve();
    const turn = previous.then(work, work);
    sessionTurns.set(sessionId, turn.catch(() => undefined));
    return turn;
  };

  /** The live session of a cursor, or the `UploadSessionLookupError` for it. */
  const lookup = (sessionId: string): DropboxUploadSession | TaggedUnion => {
    const session = sessions.get(sessionId);
    if (!session || session.expired || session.finishedAs) return { '.tag': 'not_found' };
    return session;
  };
  const isSession = (value: DropboxUploadSession | TaggedUnion): value is DropboxUploadSession => 'bytes' in value;

  /**
   * Writes one request's bytes into a session at `offset`, all or nothing, as Dropbox processes a
   * request whole: a broken connection, an oversize body or a content hash mismatch keeps nothing.
   * Answers the error itself (under `wrap`, the endpoint's error union) and returns undefined then;
   * else the bytes written, which the caller accepts once the request succeeds.
   */
  const appendBytes = async (exchange: Exchange, session: DropboxUploadSession, offset: number, expectedHash: unknown, wrap: (error: TaggedUnion) => TaggedUnion): Promise<number | undefined> => {
    const declared = exchange.contentLength;
    if (declared !== undefined && declared > maxRequestBytes) return void answerEndpointError(exchange, wrap({ '.tag': 'payload_too_large' }));
    if (declared !== undefined && offset + declared > maxSessionBytes) return void answerEndpointError(exchange, wrap({ '.tag': 'too_large' }));
    const hasher = new DropboxContentHasher();
    const receipt = await session.bytes.receive(exchange.uploadBody(), offset, { limit: maxRequestBytes, onWritten: (chunk) => hasher.update(chunk) });
    const refusal: TaggedUnion | undefined = receipt.overLimit
      ? { '.tag': 'payload_too_large' }
      : offset + receipt.written > maxSessionBytes
        ? { '.tag': 'too_large' }
        : typeof expectedHash === 'string' && expectedHash !== hasher.digest()
          ? { '.tag': 'content_hash_mismatch' }
          : undefined;
    if (receipt.broken || refusal) {
      if (!session.concurrent) await session.bytes.truncate(session.length);
      if (refusal) answerEndpointError(exchange, wrap(refusal));
      return undefined;
    }
    return receipt.written;
  };

  const newSession = async (concurrent: boolean): Promise<DropboxUploadSession> => {
    const id = `pid_upload_session:${randomIdentifier(40)}`;
    const session: DropboxUploadSession = {
      id,
      concurrent,
      bytes: await StoredBytes.create(join(directory, `dropbox-session-${randomIdentifier(16)}`)),
      length: 0,
      closed: false,
      expired: false,
      finishedAs: undefined,
    };
    sessions.set(id, session);
    return session;
  };

  /** Drops a session whose first request failed: its ID was never answered, so nothing can use it. */
  const forgetSession = (session: DropboxUploadSession): void => {
    sessions.delete(session.id);
    void rm(session.bytes.path, { force: true });
  };

  /** Checks a concurrent chunk's alignment: offsets, and sizes but the closing one's, in multiples of 4 MiB. */
  const misalignedConcurrentChunk = (offset: number, size: number | undefined, closing: boolean): TaggedUnion | undefined => {
    if (offset % dropboxHashBlockBytes !== 0) return { '.tag': 'concurrent_session_invalid_offset' };
    if (!closing && (size === undefined || size % dropboxHashBlockBytes !== 0)) return { '.tag': 'concurrent_session_invalid_data_size' };
    return undefined;
  };

  const startSession = async (exchange: Exchange): Promise<void> => {
    if (!authorized(exchange, dropboxScopes.contentWrite)) return;
    const args = contentArguments(exchange);
    if (!args) return;
    const type = args.session_type as TaggedUnion | string | undefined;
    const concurrent = (typeof type === 'string' ? type : type?.['.tag']) === 'concurrent';
    if (concurrent && (exchange.contentLength ?? 0) > 0) return answerEndpointError(exchange, { '.tag': 'concurrent_session_data_not_allowed' });
    const session = await newSession(concurrent);
    const written = await appendBytes(exchange, session, 0, args.content_hash, (error) => error);
    if (written === undefined) return void forgetSession(session);
    session.bytes.accept(0, written);
    session.length = written;
    session.closed = args.close === true;
    exchange.answerJson(200, { session_id: session.id });
  };

  const appendToSession = async (exchange: Exchange): Promise<void> => {
    if (!authorized(exchange, dropboxScopes.contentWrite)) return;
    const args = contentArguments(exchange);
    const cursor = args && readCursor(exchange, args.cursor);
    if (!args || !cursor) return;
    return inTurn(cursor.sessionId, () => appendInTurn(exchange, args, cursor));
  };

  const appendInTurn = async (exchange: Exchange, args: Arguments, cursor: { sessionId: string; offset: number }): Promise<void> => {
    const session = lookup(cursor.sessionId);
    if (!isSession(session)) return answerEndpointError(exchange, session);
    const closing = args.close === true;
    // A concurrent session still takes the chunks before its closing one, which may arrive later.
    const pastEnd = !session.concurrent || closing || cursor.offset + (exchange.contentLength ?? 0) > session.length;
    if (session.closed && pastEnd) return answerEndpointError(exchange, { '.tag': 'closed' });
    if (session.concurrent) {
      const misaligned = misalignedConcurrentChunk(cursor.offset, exchange.contentLength, closing);
      if (misaligned) return answerEndpointError(exchange, misaligned);
    } else if (cursor.offset !== session.length) {
      return answerEndpointError(exchange, { '.tag': 'incorrect_offset', correct_offset: session.length });
    }
    const written = await appendBytes(exchange, session, cursor.offset, args.content_hash, (error) => error);
    if (written === undefined) return;
    session.bytes.accept(cursor.offset, cursor.offset + written);
    session.length = session.concurrent ? Math.max(session.length, cursor.offset + written) : session.length + written;
    session.closed ||= closing;
    exchange.answerJson(200, null);
  };

  /** Commits a session's bytes as a file; the `UploadSessionFinishError` when it cannot. */
  const commitSession = async (session: DropboxUploadSession, commit: CommitInfo): Promise<DropboxFile | TaggedUnion> => {
    if (session.concurrent && !session.closed) return { '.tag': 'concurrent_session_not_closed' };
    if (session.concurrent && session.bytes.contiguousLength < session.length) return { '.tag': 'concurrent_session_missing_data' };
    await session.bytes.truncate(session.length);
    const contentHash = await dropboxContentHashOfFile(session.bytes.path);
    const plan = namespace.plan(commit, session.length, contentHash);
    if (!isCommitPlan(plan)) return { '.tag': 'path', path: plan };
    session.finishedAs = plan.kind === 'unchanged' ? plan.file : await namespace.store(plan, session.bytes, session.length, contentHash, commit.clientModified);
    return session.finishedAs;
  };
  const isFile = (value: DropboxFile | TaggedUnion): value is DropboxFile => 'bytes' in value;

  const finishSession = async (exchange: Exchange): Promise<void> => {
    if (!authorized(exchange, dropboxScopes.contentWrite)) return;
    const args = contentArguments(exchange);
    const cursor = args && readCursor(exchange, args.cursor);
    const commit = cursor && readCommit(exchange, args.commit, 'commit.');
    if (!args || !cursor || !commit) return;
    return inTurn(cursor.sessionId, () => finishInTurn(exchange, args, cursor, commit));
  };

  const finishInTurn = async (exchange: Exchange, args: Arguments, cursor: { sessionId: string; offset: number }, commit: CommitInfo): Promise<void> => {
    const lookupFailed = (error: TaggedUnion): TaggedUnion => ({ '.tag': 'lookup_failed', lookup_failed: error });
    const session = lookup(cursor.sessionId);
    if (!isSession(session)) return answerEndpointError(exchange, lookupFailed(session));
    if (session.concurrent && (exchange.contentLength ?? 0) > 0) return answerEndpointError(exchange, { '.tag': 'concurrent_session_data_not_allowed' });
    if (cursor.offset !== session.length) return answerEndpointError(exchange, lookupFailed({ '.tag': 'incorrect_offset', correct_offset: session.length }));
    const before = session.length;
    if (!session.concurrent) {
      const written = await appendBytes(exchange, session, cursor.offset, args.content_hash, lookupFailed);
      if (written === undefined) return;
      session.length += written;
    }
    const result = await commitSession(session, commit);
    if (!isFile(result)) {
      // A failed finish keeps none of its bytes, so the client may retry it as it was.
      session.length = before;
      await session.bytes.truncate(before);
      return answerEndpointError(exchange, result);
    }
    session.bytes.accept(before, session.length);
    exchange.answerJson(200, fileMetadata(result));
  };

  const finishBatch = async (exchange: Exchange): Promise<void> => {
    if (!authorized(exchange, dropboxScopes.contentWrite)) return;
    const args = await rpcArguments(exchange);
    if (!args) return;
    const entries = Array.isArray(args.entries) ? (args.entries as Arguments[]) : undefined;
    if (!entries || entries.length > 1000) return answerBadInput(exchange, "request body: entries: expected a list of at most 1000 items");
    const results: TaggedUnion[] = [];
    for (const entry of entries) {
      const cursor = readCursor(exchange, entry.cursor);
      const commit = cursor && readCommit(exchange, entry.commit, 'entries.commit.');
      if (!cursor || !commit) return;
      const session = lookup(cursor.sessionId);
      const result: DropboxFile | TaggedUnion = !isSession(session)
        ? { '.tag': 'lookup_failed', lookup_failed: session }
        : !session.closed
          ? { '.tag': 'lookup_failed', lookup_failed: { '.tag': 'not_closed' } }
          : cursor.offset !== session.length
            ? { '.tag': 'lookup_failed', lookup_failed: { '.tag': 'incorrect_offset', correct_offset: session.length } }
            : await commitSession(session, commit);
      results.push(isFile(result) ? { '.tag': 'success', ...fileMetadata(result) } : { '.tag': 'failure', failure: result });
    }
    exchange.answerJson(200, { entries: results });
  };

  const uploadFile = async (exchange: Exchange): Promise<void> => {
    if (!authorized(exchange, dropboxScopes.contentWrite)) return;
    const args = contentArguments(exchange);
    const commit = args && readCommit(exchange, args, '');
    if (!args || !commit) return;
    const session = await newSession(false);
    const written = await appendBytes(exchange, session, 0, args.content_hash, (error) => error);
    // Bytes that never arrived whole leave nothing: no session was ever named to the client.
    if (written === undefined) return void forgetSession(session);
    session.bytes.accept(0, written);
    session.length = written;
    const result = await commitSession(session, commit);
    // A failed write leaves the bytes in a session the client may finish with another commit.
    if (!isFile(result)) return answerEndpointError(exchange, { '.tag': 'path', reason: result.path as TaggedUnion, upload_session_id: session.id });
    exchange.answerJson(200, fileMetadata(result));
  };

  /** The `path` argument of a metadata call; undefined after answering 400. */
  const pathArgument = async (exchange: Exchange, scope: string): Promise<string | undefined> => {
    if (!authorized(exchange, scope)) return undefined;
    const args = await rpcArguments(exchange);
    const path = args && requiredString(exchange, args.path, 'path');
    if (path === '' || path === '/') {
      answerBadInput(exchange, 'request body: path: The root folder is unsupported.');
      return undefined;
    }
    return path;
  };

  const getMetadata = async (exchange: Exchange): Promise<void> => {
    const path = await pathArgument(exchange, dropboxScopes.metadataRead);
    if (path === undefined) return;
    const metadata = namespace.metadata(path);
    if (!metadata) return answerEndpointError(exchange, { '.tag': 'path', path: { '.tag': 'not_found' } });
    exchange.answerJson(200, metadata);
  };

  const deleteEntry = async (exchange: Exchange): Promise<void> => {
    const path = await pathArgument(exchange, dropboxScopes.contentWrite);
    if (path === undefined) return;
    const metadata = await namespace.delete(path);
    if (!metadata) return answerEndpointError(exchange, { '.tag': 'path_lookup', path_lookup: { '.tag': 'not_found' } });
    exchange.answerJson(200, { metadata });
  };

  const createSharedLink = async (exchange: Exchange): Promise<void> => {
    const path = await pathArgument(exchange, dropboxScopes.sharingWrite);
    if (path === undefined) return;
    const file = namespace.file(path);
    if (!file) return answerEndpointError(exchange, { '.tag': 'path', path: { '.tag': 'not_found' } });
    const existing = file.sharedLink;
    file.sharedLink ??= sharedLinkUrl(file);
    const metadata = {
      '.tag': 'file',
      url: file.sharedLink,
      name: file.name,
      path_lower: file.pathLower,
      id: file.id,
      client_modified: file.clientModified,
      server_modified: file.serverModified,
      rev: file.rev,
      size: file.size,
      link_permissions: { can_revoke: true, resolved_visibility: { '.tag': 'public' }, allow_download: true },
    };
    if (existing) return answerEndpointError(exchange, { '.tag': 'shared_link_already_exists', shared_link_already_exists: { '.tag': 'metadata', metadata } });
    exchange.answerJson(200, metadata);
  };

  const currentAccount = async (exchange: Exchange): Promise<void> => {
    if (!authorized(exchange, dropboxScopes.accountInfoRead) || !(await rpcArguments(exchange))) return;
    const [given = '', ...rest] = account.displayName.split(' ');
    exchange.answerJson(200, {
      account_id: account.accountId,
      name: { given_name: given, surname: rest.join(' '), familiar_name: given, display_name: account.displayName, abbreviated_name: account.displayName.slice(0, 2).toUpperCase() },
      email: account.email,
      email_verified: true,
      disabled: false,
      country: 'US',
      locale: 'en',
      is_paired: false,
      account_type: { '.tag': 'basic' },
      root_info: { '.tag': 'user', root_namespace_id: '1', home_namespace_id: '1' },
    });
  };

  const spaceUsage = async (exchange: Exchange): Promise<void> => {
    if (!authorized(exchange, dropboxScopes.accountInfoRead) || !(await rpcArguments(exchange))) return;
    exchange.answerJson(200, { used: namespace.usedBytes, allocation: { '.tag': 'individual', allocated: namespace.allocatedBytes } });
  };

  const refreshToken = (exchange: Exchange): Promise<void> =>
    answerTokenRequest(exchange, tokens, options.clients ?? [], {
      tokenType: 'bearer',
      accessLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 14_400,
      invalidClientStatus: 400,
      invalidGrantDescription: 'refresh token is invalid or revoked',
    });

  const route = (endpoint: string, handle: Route['handle']): Route => ({ endpoint, method: 'POST', path: new RegExp(`^/2/${endpoint}$`), handle });
  const routes: Route[] = [
    route('files/upload', uploadFile),
    route('files/upload_session/start', startSession),
    route('files/upload_session/append_v2', appendToSession),
    route('files/upload_session/finish', finishSession),
    route('files/upload_session/finish_batch_v2', finishBatch),
    route('files/get_metadata', getMetadata),
    route('files/delete_v2', deleteEntry),
    route('sharing/create_shared_link_with_settings', createSharedLink),
    route('users/get_current_account', currentAccount),
    route('users/get_space_usage', spaceUsage),
    { endpoint: 'oauth2/token', method: 'POST', path: /^\/oauth2\/token$/, handle: refreshToken },
  ];
  const server = await startFakeServer(routes, dropboxDialect);
  directory = server.directory;
  namespace = new DropboxNamespace(directory, options.allocatedBytes ?? 2 * 1024 * 1024 * MiB);

  return {
    url: server.url,
    requests: server.requests,
    requestCount: server.requestCount,
    faults: server.faults,
    close: server.close,
    tokens,
    sessions,
    files: namespace.files,
    file: (path) => namespace.file(path),
    expireSession: (sessionId) => {
      const session = sessions.get(sessionId);
      if (session) session.expired = true;
    },
  };
}

