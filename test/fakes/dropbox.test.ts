import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { patternBytes, sha256 } from '../support/sources.ts';
import { DropboxContentHasher } from './dropbox-content-hash.ts';
import { type DropboxFake, dropboxScopes, startDropboxFake } from './dropbox.ts';

const MiB = 1024 * 1024;
const token = 'dropbox-token';

let dropbox: DropboxFake;

beforeEach(async () => {
  dropbox = await startDropboxFake({ clients: [{ clientId: 'app-key', clientSecret: 'app-secret' }] });
  dropbox.tokens.grantAccess(token, { scopes: Object.values(dropboxScopes) });
});

afterEach(async () => {
  await dropbox.close();
});

/** Dropbox's content hash, computed here independently of the fake. */
function expectedContentHash(bytes: Buffer): string {
  const digests: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 4 * MiB) digests.push(createHash('sha256').update(bytes.subarray(offset, offset + 4 * MiB)).digest());
  return createHash('sha256').update(Buffer.concat(digests)).digest('hex');
}

function content(endpoint: string, args: unknown, body: Buffer | AsyncIterable<Buffer> = Buffer.alloc(0), headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${dropbox.url}/2/${endpoint}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'dropbox-api-arg': JSON.stringify(args), ...headers },
    body: body as RequestInit['body'],
    duplex: 'half',
    signal,
  } as RequestInit);
}

function rpc(endpoint: string, args: unknown, bearer = token): Promise<Response> {
  return fetch(`${dropbox.url}/2/${endpoint}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: args === undefined ? undefined : JSON.stringify(args),
  });
}

async function json(response: Response): Promise<any> {
  return response.json();
}

async function upload(path: string, bytes: Buffer, commit: Record<string, unknown> = {}): Promise<Response> {
  return content('files/upload', { path, mode: 'add', autorename: false, mute: false, ...commit }, bytes);
}

async function startSession(first: Buffer = Buffer.alloc(0), args: Record<string, unknown> = {}): Promise<string> {
  const response = await content('files/upload_session/start', args, first);
  expect(response.status).toBe(200);
  return ((await json(response)) as { session_id: string }).session_id;
}

function append(sessionId: string, offset: number, bytes: Buffer, args: Record<string, unknown> = {}): Promise<Response> {
  return content('files/upload_session/append_v2', { cursor: { session_id: sessionId, offset }, ...args }, bytes);
}

function finish(sessionId: string, offset: number, path: string, bytes: Buffer = Buffer.alloc(0), commit: Record<string, unknown> = {}): Promise<Response> {
  return content('files/upload_session/finish', { cursor: { session_id: sessionId, offset }, commit: { path, mode: 'add', ...commit } }, bytes);
}

describe('Dropbox fake: content hash', () => {
  it('hashes 4 MiB blocks however the bytes are fed', () => {
    const bytes = patternBytes(9 * MiB + 17, 2);
    const hasher = new DropboxContentHasher();

    let offset = 0;
    for (const size of [0, 1, 4 * MiB - 1, 3, 5 * MiB, 14]) {
      hasher.update(bytes.subarray(offset, offset + size));
      offset += size;
    }

    expect(offset).toBe(bytes.length);
    expect(hasher.digest()).toBe(expectedContentHash(bytes));
  });

  it('hashes empty content as the SHA-256 of nothing', () => {
    expect(new DropboxContentHasher().digest()).toBe(createHash('sha256').digest('hex'));
  });
});

describe('Dropbox fake: uploads', () => {
  it('stores a file sent with files/upload and answers its metadata', async () => {
    const bytes = patternBytes(300_000, 4);

    const response = await upload('/Renders/Clip.mp4', bytes, { client_modified: '2024-01-02T03:04:05Z' });

    const metadata = await json(response);
    expect(metadata).toMatchObject({ name: 'Clip.mp4', path_display: '/Renders/Clip.mp4', path_lower: '/renders/clip.mp4', size: bytes.length, client_modified: '2024-01-02T03:04:05Z' });
    expect(metadata.content_hash).toBe(expectedContentHash(bytes));
    expect(metadata.id).toMatch(/^id:/);
    expect(await dropbox.file('/renders/CLIP.mp4')?.bytes.sha256()).toBe(sha256(bytes));
  });

  it('builds a file from a sequential session of several appends', async () => {
    const bytes = patternBytes(5 * MiB + 1000, 6);
    const cuts = [0, 1 * MiB, 3 * MiB, 5 * MiB, bytes.length];

    const id = await startSession(bytes.subarray(cuts[0], cuts[1]));
    const appended = [await append(id, cuts[1]!, bytes.subarray(cuts[1], cuts[2])), await append(id, cuts[2]!, bytes.subarray(cuts[2], cuts[3]))];
    const finished = await finish(id, cuts[3]!, '/big.bin', bytes.subarray(cuts[3]));

    expect(appended.map((response) => response.status)).toEqual([200, 200]);
    expect(await appended[0]?.text()).toBe('null');
    expect(await json(finished)).toMatchObject({ path_display: '/big.bin', size: bytes.length, content_hash: expectedContentHash(bytes) });
    expect(await dropbox.file('/big.bin')?.bytes.sha256()).toBe(sha256(bytes));
    expect(dropbox.sessions.get(id)?.bytes.acceptedRanges).toEqual(cuts.slice(1).map((end, index) => ({ start: cuts[index], end })));
  });

  it('keeps nothing of an append whose connection broke, and takes it again at the same offset', async () => {
    const bytes = patternBytes(3 * MiB, 8);
    const id = await startSession(bytes.subarray(0, MiB));
    dropbox.faults.dropConnectionAfter(MiB / 2, { endpoint: 'files/upload_session/append_v2' });

    await expect(append(id, MiB, bytes.subarray(MiB, 2 * MiB))).rejects.toThrow();
    const retried = await append(id, MiB, bytes.subarray(MiB, 2 * MiB));
    const finished = await finish(id, 2 * MiB, '/retried.bin', bytes.subarray(2 * MiB));

    expect(retried.status).toBe(200);
    expect(finished.status).toBe(200);
    const session = dropbox.sessions.get(id);
    expect(session?.bytes.bytesReceived).toBe(MiB + MiB / 2 + MiB + MiB);
    expect(session?.bytes.acceptedRanges).toEqual([
      { start: 0, end: MiB },
      { start: MiB, end: 2 * MiB },
      { start: 2 * MiB, end: 3 * MiB },
    ]);
    expect(await dropbox.file('/retried.bin')?.bytes.sha256()).toBe(sha256(bytes));
  });

  it('keeps the bytes of an append that arrived while an earlier, abandoned append to the session was still breaking', async () => {
    const bytes = patternBytes(2 * MiB, 9);
    const id = await startSession(bytes.subarray(0, MiB));
    const gate = (): { opened: Promise<void>; open: () => void } => {
      let open = (): void => undefined;
      return { opened: new Promise<void>((resolve) => (open = resolve)), open };
    };
    // The abandoned request never sends its second half; the retried one sends it after the abandoned one broke.
    const abandonedGate = gate();
    const retriedGate = gate();
    /** The chunk at 1 MiB, sent in two halves with a pause between them. */
    function pausedChunk(pause: Promise<void>): AsyncGenerator<Buffer> {
      return (async function* () {
        yield bytes.subarray(MiB, MiB + MiB / 2);
        await pause;
        yield bytes.subarray(MiB + MiB / 2, 2 * MiB);
      })();
    }
    const controller = new AbortController();
    const abandoned = content('files/upload_session/append_v2', { cursor: { session_id: id, offset: MiB } }, pausedChunk(abandonedGate.opened), { 'content-length': String(MiB) }, controller.signal).catch(
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));

    const retried = content('files/upload_session/append_v2', { cursor: { session_id: id, offset: MiB } }, pausedChunk(retriedGate.opened), { 'content-length': String(MiB) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await abandoned;
    await new Promise((resolve) => setTimeout(resolve, 100));
    retriedGate.open();
    const finished = await finish(id, 2 * MiB, '/raced.bin');

    expect((await retried).status).toBe(200);
    expect(finished.status).toBe(200);
    expect(await dropbox.file('/raced.bin')?.bytes.sha256()).toBe(sha256(bytes));
  });

  it('answers incorrect_offset with the correct offset when an append is resent after its answer was lost', async () => {
    const bytes = patternBytes(2 * MiB, 10);
    const id = await startSession(bytes.subarray(0, MiB));
    dropbox.faults.loseNextAnswer({ endpoint: 'files/upload_session/append_v2' });

    await expect(append(id, MiB, bytes.subarray(MiB))).rejects.toThrow();
    const resent = await append(id, MiB, bytes.subarray(MiB));

    expect(resent.status).toBe(409);
    expect(await json(resent)).toEqual({ error_summary: 'incorrect_offset/..', error: { '.tag': 'incorrect_offset', correct_offset: 2 * MiB } });
    expect(dropbox.sessions.get(id)?.bytes.acceptedRanges).toEqual([
      { start: 0, end: MiB },
      { start: MiB, end: 2 * MiB },
    ]);
  });

  it('forgets a finished session, so a finish resent after a lost answer fails and the one file stays', async () => {
    const bytes = patternBytes(1000, 12);
    const id = await startSession(bytes);
    dropbox.faults.loseNextAnswer({ endpoint: 'files/upload_session/finish' });

    await expect(finish(id, bytes.length, '/once.bin')).rejects.toThrow();
    const resent = await finish(id, bytes.length, '/once.bin');
    const metadata = await rpc('files/get_metadata', { path: '/once.bin' });

    expect(await json(resent)).toMatchObject({ error_summary: 'lookup_failed/not_found/..' });
    expect(await json(metadata)).toMatchObject({ '.tag': 'file', size: 1000, content_hash: expectedContentHash(bytes) });
    expect(dropbox.files.size).toBe(1);
  });

  it('builds a file from a concurrent session whose 4 MiB chunks arrive out of order', async () => {
    const bytes = patternBytes(8 * MiB + 5, 14);
    const id = await startSession(Buffer.alloc(0), { session_type: { '.tag': 'concurrent' } });

    const responses = [
      await append(id, 4 * MiB, bytes.subarray(4 * MiB, 8 * MiB)),
      await append(id, 8 * MiB, bytes.subarray(8 * MiB), { close: true }),
      await append(id, 0, bytes.subarray(0, 4 * MiB)),
    ];
    const finished = await finish(id, bytes.length, '/concurrent.bin');

    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(await json(finished)).toMatchObject({ size: bytes.length, content_hash: expectedContentHash(bytes) });
    expect(await dropbox.file('/concurrent.bin')?.bytes.sha256()).toBe(sha256(bytes));
  });

  it('commits closed sessions with finish_batch_v2', async () => {
    const first = await startSession(patternBytes(10, 1), { close: true });
    const second = await startSession(patternBytes(20, 2), { close: true });

    const response = await rpc('files/upload_session/finish_batch_v2', {
      entries: [
        { cursor: { session_id: first, offset: 10 }, commit: { path: '/one.bin' } },
        { cursor: { session_id: second, offset: 20 }, commit: { path: '/two.bin' } },
      ],
    });

    const body = await json(response);
    expect(body.entries.map((entry: any) => [entry['.tag'], entry.path_display])).toEqual([
      ['success', '/one.bin'],
      ['success', '/two.bin'],
    ]);
  });
});

describe('Dropbox fake: write modes', () => {
  it('refuses to add over an existing file with path/conflict/file and a session to retry from', async () => {
    await upload('/a.mp4', patternBytes(100, 1));

    const response = await upload('/a.mp4', patternBytes(100, 2));

    expect(response.status).toBe(409);
    const body = await json(response);
    expect(body).toMatchObject({ error_summary: 'path/conflict/file/..', error: { '.tag': 'path', reason: { '.tag': 'conflict', conflict: { '.tag': 'file' } } } });
    const retried = await finish(body.error.upload_session_id, 100, '/a.mp4', Buffer.alloc(0), { autorename: true });
    expect(await json(retried)).toMatchObject({ path_display: '/a (1).mp4' });
  });

  it('renames with autorename: a.mp4, a (1).mp4, a (2).mp4', async () => {
    const names: string[] = [];
    for (let seed = 1; seed <= 3; seed += 1) names.push((await json(await upload('/a.mp4', patternBytes(100, seed), { autorename: true }))).path_display);

    expect(names).toEqual(['/a.mp4', '/a (1).mp4', '/a (2).mp4']);
  });

  it('treats identical content as no conflict, unless strict_conflict', async () => {
    const bytes = patternBytes(100, 1);
    const first = await json(await upload('/same.bin', bytes));

    const again = await upload('/same.bin', bytes);
    const strict = await upload('/same.bin', bytes, { strict_conflict: true });

    expect(await json(again)).toMatchObject({ id: first.id, rev: first.rev });
    expect(strict.status).toBe(409);
  });

  it('overwrites a file in overwrite mode, keeping its ID with a new revision', async () => {
    const first = await json(await upload('/o.bin', patternBytes(100, 1)));
    const replacement = patternBytes(50, 2);

    const second = await json(await upload('/o.bin', replacement, { mode: 'overwrite' }));

    expect(second.id).toBe(first.id);
    expect(second.rev).not.toBe(first.rev);
    expect(await dropbox.file('/o.bin')?.bytes.read()).toEqual(replacement);
  });

  it('updates only the revision given', async () => {
    const first = await json(await upload('/u.bin', patternBytes(100, 1)));

    const updated = await upload('/u.bin', patternBytes(100, 2), { mode: { '.tag': 'update', update: first.rev } });
    const stale = await upload('/u.bin', patternBytes(100, 3), { mode: { '.tag': 'update', update: first.rev } });

    expect(updated.status).toBe(200);
    expect(await json(stale)).toMatchObject({ error_summary: 'path/conflict/file/..' });
  });

  it('refuses a file where a folder is, and under a file', async () => {
    await upload('/folder/inside.bin', patternBytes(10));

    const onFolder = await upload('/folder', patternBytes(10));
    const underFile = await upload('/folder/inside.bin/deeper.bin', patternBytes(10));

    expect((await json(onFolder)).error_summary).toBe('path/conflict/folder/..');
    expect((await json(underFile)).error_summary).toBe('path/conflict/file_ancestor/..');
  });

  it.each([
    ['an empty path component', '/a//b.bin', 'path/malformed_path/..'],
    ['a system file name', '/desktop.ini', 'path/disallowed_name/..'],
  ])('refuses %s', async (_case, path, summary) => {
    const response = await upload(path, patternBytes(10));

    expect(response.status).toBe(409);
    expect((await json(response)).error_summary).toBe(summary);
  });

  it('refuses a path that is not absolute with a 400 text answer', async () => {
    const response = await upload('relative.bin', patternBytes(10));

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toContain('did not match pattern');
  });

  it('refuses a file larger than the space left with path/insufficient_space', async () => {
    await dropbox.close();
    dropbox = await startDropboxFake({ allocatedBytes: 1000 });
    dropbox.tokens.grantAccess(token, { scopes: Object.values(dropboxScopes) });
    await upload('/first.bin', patternBytes(600));

    const response = await upload('/second.bin', patternBytes(600));

    expect((await json(response)).error_summary).toBe('path/insufficient_space/..');
  });
});

describe('Dropbox fake: session refusals', () => {
  it('refuses an append at the wrong offset with incorrect_offset', async () => {
    const id = await startSession(patternBytes(100));

    const response = await append(id, 50, patternBytes(10));

    expect(response.status).toBe(409);
    expect((await json(response)).error).toEqual({ '.tag': 'incorrect_offset', correct_offset: 100 });
  });

  it('refuses a finish at the wrong offset with lookup_failed/incorrect_offset', async () => {
    const id = await startSession(patternBytes(100));

    const response = await finish(id, 10, '/x.bin');

    expect(await json(response)).toEqual({
      error_summary: 'lookup_failed/incorrect_offset/..',
      error: { '.tag': 'lookup_failed', lookup_failed: { '.tag': 'incorrect_offset', correct_offset: 100 } },
    });
  });

  it('refuses an append to a closed session with closed', async () => {
    const id = await startSession(patternBytes(100), { close: true });

    const response = await append(id, 100, patternBytes(10));

    expect((await json(response)).error).toEqual({ '.tag': 'closed' });
  });

  it('refuses an expired or unknown session with not_found', async () => {
    const id = await startSession(patternBytes(100));
    dropbox.expireSession(id);

    const expired = await append(id, 100, patternBytes(10));
    const unknown = await append('pid_upload_session:none', 0, patternBytes(10));

    expect((await json(expired)).error).toEqual({ '.tag': 'not_found' });
    expect((await json(unknown)).error).toEqual({ '.tag': 'not_found' });
  });

  it('refuses a request body over 150 MiB with payload_too_large, keeping nothing', async () => {
    const piece = Buffer.alloc(MiB, 1);
    async function* oversize() {
      for (let index = 0; index <= 150; index += 1) yield piece;
    }
    const id = await startSession(patternBytes(10));

    const response = await append(id, 10, oversize() as unknown as Buffer);

    expect(response.status).toBe(409);
    expect((await json(response)).error).toEqual({ '.tag': 'payload_too_large' });
    expect(dropbox.sessions.get(id)?.length).toBe(10);
  });

  it('refuses bytes whose content_hash does not match, keeping nothing', async () => {
    const id = await startSession(patternBytes(10));

    const response = await append(id, 10, patternBytes(100), { content_hash: expectedContentHash(patternBytes(99)) });
    const matching = await append(id, 10, patternBytes(100), { content_hash: expectedContentHash(patternBytes(100)) });

    expect((await json(response)).error).toEqual({ '.tag': 'content_hash_mismatch' });
    expect(matching.status).toBe(200);
  });

  it('refuses concurrent chunks off the 4 MiB grid', async () => {
    const id = await startSession(Buffer.alloc(0), { session_type: 'concurrent' });

    const offset = await append(id, 1000, patternBytes(10), { close: true });
    const size = await append(id, 0, patternBytes(1000));

    expect((await json(offset)).error).toEqual({ '.tag': 'concurrent_session_invalid_offset' });
    expect((await json(size)).error).toEqual({ '.tag': 'concurrent_session_invalid_data_size' });
  });

  it('refuses to finish a concurrent session with a gap in its data', async () => {
    const id = await startSession(Buffer.alloc(0), { session_type: 'concurrent' });
    await append(id, 4 * MiB, patternBytes(10), { close: true });

    const response = await finish(id, 4 * MiB + 10, '/gap.bin');

    expect((await json(response)).error).toEqual({ '.tag': 'concurrent_session_missing_data' });
  });

  it('refuses data when starting a concurrent session', async () => {
    const response = await content('files/upload_session/start', { session_type: 'concurrent' }, patternBytes(10));

    expect((await json(response)).error).toEqual({ '.tag': 'concurrent_session_data_not_allowed' });
  });

  it('fails a finish_batch_v2 entry whose session is not closed', async () => {
    const id = await startSession(patternBytes(10));

    const response = await rpc('files/upload_session/finish_batch_v2', { entries: [{ cursor: { session_id: id, offset: 10 }, commit: { path: '/open.bin' } }] });

    expect((await json(response)).entries).toEqual([{ '.tag': 'failure', failure: { '.tag': 'lookup_failed', lookup_failed: { '.tag': 'not_closed' } } }]);
  });
});

describe('Dropbox fake: tokens and request format', () => {
  it('refuses a request without Authorization with a 400 text answer', async () => {
    const response = await fetch(`${dropbox.url}/2/users/get_current_account`, { method: 'POST' });

    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Must provide HTTP header "Authorization"');
  });

  it('refuses an expired token with 401 expired_access_token', async () => {
    dropbox.tokens.expire(token);

    const response = await rpc('users/get_current_account', undefined);

    expect(response.status).toBe(401);
    expect(await json(response)).toEqual({ error_summary: 'expired_access_token/..', error: { '.tag': 'expired_access_token' } });
  });

  it('refuses an unknown token with 401 invalid_access_token', async () => {
    const response = await rpc('users/get_current_account', undefined, 'forged');

    expect(response.status).toBe(401);
    expect((await json(response)).error).toEqual({ '.tag': 'invalid_access_token' });
  });

  it('refuses a token without the scope with 401 missing_scope', async () => {
    dropbox.tokens.grantAccess('reader', { scopes: [dropboxScopes.metadataRead] });

    const response = await fetch(`${dropbox.url}/2/files/upload`, {
      method: 'POST',
      headers: { authorization: 'Bearer reader', 'content-type': 'application/octet-stream', 'dropbox-api-arg': '{"path":"/x"}' },
      body: 'x',
    });

    expect(response.status).toBe(401);
    expect((await json(response)).error).toEqual({ '.tag': 'missing_scope', required_scope: 'files.content.write' });
  });

  it('refuses a content call with a JSON content type, and an argument that is not JSON', async () => {
    const wrongType = await content('files/upload', { path: '/x' }, patternBytes(1), { 'content-type': 'application/json' });
    const notJson = await content('files/upload', {}, patternBytes(1), { 'dropbox-api-arg': '{path:' });

    expect([wrongType.status, notJson.status]).toEqual([400, 400]);
    expect(await wrongType.text()).toContain('Bad HTTP "Content-Type" header');
    expect(await notJson.text()).toContain('could not decode input as JSON');
  });

  it('refuses a call missing a required field', async () => {
    const response = await rpc('files/get_metadata', {});

    expect(response.status).toBe(400);
    expect(await response.text()).toContain("missing required field 'path'");
  });
});

describe('Dropbox fake: OAuth token endpoint', () => {
  it('refreshes with parameters in the query and the client in a Basic header, as the SDK does', async () => {
    dropbox.tokens.grantRefresh('refresh-1', { scopes: [dropboxScopes.accountInfoRead] });

    const response = await fetch(`${dropbox.url}/oauth2/token?grant_type=refresh_token&refresh_token=refresh-1`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('app-key:app-secret').toString('base64')}` },
    });
    const body = await json(response);
    const account = await rpc('users/get_current_account', undefined, body.access_token);

    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 14400 });
    expect(account.status).toBe(200);
  });

  it('refuses an unknown refresh token with invalid_grant and a wrong secret with invalid_client', async () => {
    const unknown = await fetch(`${dropbox.url}/oauth2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'none', client_id: 'app-key', client_secret: 'app-secret' }) });
    const wrongSecret = await fetch(`${dropbox.url}/oauth2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'none', client_id: 'app-key', client_secret: 'nope' }) });

    expect([unknown.status, (await json(unknown)).error]).toEqual([400, 'invalid_grant']);
    expect([wrongSecret.status, (await json(wrongSecret)).error]).toEqual([400, 'invalid_client']);
  });
});

describe('Dropbox fake: metadata, deletion, sharing and account', () => {
  it('answers metadata of a file and of the folder holding it, and path/not_found for nothing', async () => {
    await upload('/Folder/file.bin', patternBytes(10));

    const file = await json(await rpc('files/get_metadata', { path: '/folder/FILE.bin' }));
    const folder = await json(await rpc('files/get_metadata', { path: '/folder' }));
    const missing = await rpc('files/get_metadata', { path: '/nothing' });

    expect(file).toMatchObject({ '.tag': 'file', path_display: '/Folder/file.bin' });
    expect(folder).toMatchObject({ '.tag': 'folder', path_display: '/Folder', name: 'Folder' });
    expect(await json(missing)).toEqual({ error_summary: 'path/not_found/..', error: { '.tag': 'path', path: { '.tag': 'not_found' } } });
  });

  it('finds a file by its ID', async () => {
    const { id } = await json(await upload('/by-id.bin', patternBytes(10)));

    const response = await rpc('files/get_metadata', { path: id });

    expect(await json(response)).toMatchObject({ path_display: '/by-id.bin' });
  });

  it('refuses metadata of the root with a 400', async () => {
    expect((await rpc('files/get_metadata', { path: '' })).status).toBe(400);
  });

  it('deletes a file, then answers path_lookup/not_found for it', async () => {
    await upload('/gone.bin', patternBytes(10));

    const deleted = await rpc('files/delete_v2', { path: '/gone.bin' });
    const again = await rpc('files/delete_v2', { path: '/gone.bin' });

    expect(await json(deleted)).toMatchObject({ metadata: { '.tag': 'file', path_display: '/gone.bin' } });
    expect((await json(again)).error_summary).toBe('path_lookup/not_found/..');
    expect(dropbox.files.size).toBe(0);
  });

  it('creates a shared link once, then answers shared_link_already_exists with it', async () => {
    await upload('/share.mp4', patternBytes(10));

    const created = await json(await rpc('sharing/create_shared_link_with_settings', { path: '/share.mp4' }));
    const again = await rpc('sharing/create_shared_link_with_settings', { path: '/share.mp4' });

    expect(created.url).toMatch(/^https:\/\/www\.dropbox\.com\/scl\/fi\//);
    expect(again.status).toBe(409);
    expect((await json(again)).error.shared_link_already_exists.metadata.url).toBe(created.url);
  });

  it('answers the account and its space usage', async () => {
    await upload('/space.bin', patternBytes(1234));

    const account = await json(await rpc('users/get_current_account', undefined));
    const usage = await json(await rpc('users/get_space_usage', undefined));

    expect(account).toMatchObject({ account_id: 'dbid:AAFakeAccount0000000000000000000000', email: 'owner@example.com' });
    expect(usage).toMatchObject({ used: 1234, allocation: { '.tag': 'individual' } });
  });
});

describe('Dropbox fake: faults', () => {
  it('throttles with 429, Retry-After and too_many_requests', async () => {
    dropbox.faults.throttleNext({ retryAfterSeconds: 3, endpoint: 'files/upload' });

    const response = await upload('/t.bin', patternBytes(10));

    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await json(response)).toEqual({ error_summary: 'too_many_requests/..', error: { reason: { '.tag': 'too_many_requests' }, retry_after: 3 } });
    expect(dropbox.files.size).toBe(0);
  });

  it('answers an armed 503, then serves the request', async () => {
    dropbox.faults.failNext({ status: 503 });

    const failed = await upload('/f.bin', patternBytes(10));
    const served = await upload('/f.bin', patternBytes(10));

    expect([failed.status, served.status]).toEqual([503, 200]);
    expect(dropbox.requestCount('files/upload')).toBe(2);
  });
});
