import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fetch } from '../../functions/destinations/dropbox/client.ts';
import { dropboxDestination } from '../../functions/destinations/dropbox/schema.ts';
import type { DropboxResumeState } from '../../functions/destinations/dropbox/session.ts';
import type { DropboxUploaderSettings } from '../../functions/destinations/dropbox/upload.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import type { ByteRange } from '../fakes/stored-bytes.ts';
import { DropboxContentHasher } from '../fakes/dropbox-content-hash.ts';
import { type DropboxFake, dropboxScopes, startDropboxFake } from '../fakes/dropbox.ts';
import { attemptFailure, attemptUpload, type AttemptOptions } from '../support/attempts.ts';
import { dropboxFields, grantTestToken, MemoryCredentials, openSessions, testApp, testChunkBytes, uploaderFor } from '../support/dropbox.ts';
import { localNetwork } from '../support/network.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';

const MiB = 1024 * 1024;
let fake: DropboxFake;

beforeEach(async () => {
  fake = await startDropboxFake({ clients: [{ clientId: testApp.app_key, clientSecret: testApp.app_secret }] });
  grantTestToken(fake);
});

afterEach(async () => {
  await fake.close();
});

function moduleWith(settings: Partial<DropboxUploaderSettings> = {}) {
  return { definition: dropboxDestination, uploader: uploaderFor(fake, settings) };
}

function deliver(fields: Record<string, unknown>, bytes: Buffer, options: AttemptOptions<DropboxResumeState> = {}, settings: Partial<DropboxUploaderSettings> = {}) {
  return attemptUpload(moduleWith(settings), dropboxFields(String(fields.filename), fields), sourceOf(bytes), options);
}

function fail(fields: Record<string, unknown>, bytes: Buffer, options: AttemptOptions<DropboxResumeState> = {}, settings: Partial<DropboxUploaderSettings> = {}) {
  return attemptFailure(moduleWith(settings), dropboxFields(String(fields.filename), fields), sourceOf(bytes), options);
}

/** A stored secret holding a refresh token the fake accepts for the test app. */
function storedRefreshToken(name: string, options: { rotate?: boolean; scopes?: readonly string[] } = {}): MemoryCredentials {
  const refreshToken = `refresh-${name}-${Math.random()}`;
  fake.tokens.grantRefresh(refreshToken, { scopes: options.scopes ?? Object.values(dropboxScopes), clientId: testApp.app_key, rotate: options.rotate ?? false });
  const credentials = new MemoryCredentials();
  credentials.secrets.set(name, { refresh_token: refreshToken });
  return credentials;
}

function overlaps(ranges: readonly ByteRange[]): boolean {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  return sorted.some((range, index) => index > 0 && range.start < sorted[index - 1]!.end);
}

/** The one session committed at `path`. */
function committedSession(path: string) {
  const sessions = [...fake.sessions.values()].filter((session) => session.finishedAs?.pathLower === path.toLowerCase());
  expect(sessions).toHaveLength(1);
  return sessions[0]!;
}

describe('Dropbox destination: what is stored', () => {
  it("delivers the seed's example: auth_secret names a refresh token, minted into an access token with the deployment's app", async () => {
    const credentials = storedRefreshToken('your-auth-secret');
    const bytes = patternBytes(300_000, 1);

    const delivered = await deliver({ filename: 'Videos/welcome.mp4', auth_secret: 'your-auth-secret', oauth_token: undefined }, bytes, { credentials, application: testApp });

    const file = fake.file('/Videos/welcome.mp4');
    expect(await file?.bytes.sha256()).toBe(sha256(bytes));
    expect(delivered).toMatchObject({
      url: 'https://www.dropbox.com/home/Videos?preview=welcome.mp4',
      bytes: bytes.length,
      details: { path: '/Videos/welcome.mp4', id: file?.id, rev: file?.rev, content_hash: new DropboxContentHasher().update(bytes).digest() },
    });
    expect(fake.requestCount('oauth2/token')).toBe(1);
    const tokenRequest = fake.requests.find((request) => request.endpoint === 'oauth2/token');
    expect(tokenRequest?.headers.authorization).toMatch(/^Basic /);
    expect(tokenRequest?.query.toString()).toBe('');
  });

  it('reuses a minted access token for the next delivery of the same function instance', async () => {
    const credentials = storedRefreshToken('reused');
    const fields = { filename: 'a.bin', auth_secret: 'reused', oauth_token: undefined };

    await deliver(fields, patternBytes(10, 1), { credentials, application: testApp });
    await deliver({ ...fields, filename: 'b.bin' }, patternBytes(10, 2), { credentials, application: testApp });

    expect(fake.requestCount('oauth2/token')).toBe(1);
    expect(fake.files.size).toBe(2);
  });

  it('writes a rotated refresh token back to the stored secret', async () => {
    const credentials = storedRefreshToken('rotating', { rotate: true });
    const before = credentials.secrets.get('rotating')?.refresh_token;

    await deliver({ filename: 'r.bin', auth_secret: 'rotating', oauth_token: undefined }, patternBytes(10), { credentials, application: testApp });

    expect(credentials.updates).toEqual([{ reference: 'rotating', fields: { refresh_token: expect.stringMatching(/^refresh-/) } }]);
    expect(credentials.secrets.get('rotating')?.refresh_token).not.toBe(before);
  });

  it('sends a large file through one upload session of 4 MiB-multiple appends, each with its content hash', async () => {
    const bytes = patternBytes(2 * testChunkBytes + 4321, 3);

    const delivered = await deliver({ filename: '/Renders/big.bin' }, bytes);

    expect(await fake.file('/renders/BIG.bin')?.bytes.sha256()).toBe(sha256(bytes));
    const session = committedSession('/Renders/big.bin');
    expect(session.bytes.acceptedRanges).toEqual([
      { start: 0, end: testChunkBytes },
      { start: testChunkBytes, end: 2 * testChunkBytes },
      { start: 2 * testChunkBytes, end: bytes.length },
    ]);
    const appends = fake.requests.filter((request) => request.endpoint === 'files/upload_session/append_v2');
    expect(appends.map((request) => JSON.parse(String(request.headers['dropbox-api-arg'])).content_hash)).toEqual([
      new DropboxContentHasher().update(bytes.subarray(0, testChunkBytes)).digest(),
      new DropboxContentHasher().update(bytes.subarray(testChunkBytes, 2 * testChunkBytes)).digest(),
      new DropboxContentHasher().update(bytes.subarray(2 * testChunkBytes)).digest(),
    ]);
    expect(fake.requestCount('files/upload')).toBe(0);
    expect(delivered.details).toMatchObject({ content_hash: new DropboxContentHasher().update(bytes).digest() });
  });

  it('sends a file of unknown size in one request when it fits in a chunk, through a session when not', async () => {
    const small = patternBytes(1000, 4);
    const large = patternBytes(testChunkBytes + 1, 5);

    await attemptUpload(moduleWith(), dropboxFields('small.bin'), sourceOf(small, { size: undefined }));
    await attemptUpload(moduleWith(), dropboxFields('large.bin'), sourceOf(large, { size: undefined }));

    expect(await fake.file('/small.bin')?.bytes.sha256()).toBe(sha256(small));
    expect(await fake.file('/large.bin')?.bytes.sha256()).toBe(sha256(large));
    expect(fake.requestCount('files/upload')).toBe(1);
    expect(fake.requestCount('files/upload_session/finish')).toBe(1);
  });

  it('stores names beyond ASCII as given (the argument header escapes them)', async () => {
    const bytes = patternBytes(1000, 19);

    const delivered = await deliver({ filename: 'Vidéos/été 🎬.mp4' }, bytes);

    expect(await fake.file('/Vidéos/été 🎬.mp4')?.bytes.sha256()).toBe(sha256(bytes));
    expect(delivered.url).toBe('https://www.dropbox.com/home/Vid%C3%A9os?preview=%C3%A9t%C3%A9%20%F0%9F%8E%AC.mp4');
  });

  it('replaces a file with mode overwrite, keeping its id', async () => {
    const first = await deliver({ filename: 'o.bin' }, patternBytes(100, 1));
    const replacement = patternBytes(50, 2);

    const second = await deliver({ filename: 'o.bin', mode: 'overwrite' }, replacement);

    expect(await fake.file('/o.bin')?.bytes.read()).toEqual(replacement);
    expect(second.details?.id).toBe(first.details?.id);
    expect(second.details?.rev).not.toBe(first.details?.rev);
  });

  it('stores beside a different file with autorename, saying so', async () => {
    await deliver({ filename: 'clip.mp4' }, patternBytes(100, 1));

    const delivered = await deliver({ filename: 'clip.mp4', autorename: true }, patternBytes(100, 2));

    expect(await fake.file('/clip (1).mp4')?.bytes.read()).toEqual(patternBytes(100, 2));
    expect(delivered.url).toBe('https://www.dropbox.com/home?preview=clip%20(1).mp4');
    expect(delivered.notes).toEqual(['a different file was at /clip.mp4: stored as /clip (1).mp4 (autorename)']);
  });

  it('answers a shared link with shared_link, and the same link when the file already has one', async () => {
    const first = await deliver({ filename: 'shared/a.mp4', shared_link: true }, patternBytes(100, 1));

    const second = await deliver({ filename: 'shared/a.mp4', shared_link: true, mode: 'overwrite' }, patternBytes(100, 2));

    expect(first.url).toMatch(/^https:\/\/www\.dropbox\.com\/scl\/fi\/[a-z0-9]+\/a\.mp4\?rlkey=\d+&dl=0$/);
    expect(first.url).toBe(fake.file('/shared/a.mp4')?.sharedLink);
    expect(second.url).toBe(first.url);
    expect(fake.requests.filter((request) => request.endpoint === 'sharing/create_shared_link_with_settings').map((request) => request.status)).toEqual([200, 409]);
  });
});

describe('Dropbox destination: retries and resume', () => {
  it('sends a chunk again after its connection dropped, accepting no byte range twice', async () => {
    const bytes = patternBytes(3 * testChunkBytes, 6);
    fake.faults.dropConnectionAfter(MiB, { endpoint: 'files/upload_session/append_v2' });

    await deliver({ filename: 'dropped.bin' }, bytes);

    const session = committedSession('/dropped.bin');
    expect(await fake.file('/dropped.bin')?.bytes.sha256()).toBe(sha256(bytes));
    expect(overlaps(session.bytes.acceptedRanges)).toBe(false);
    expect(session.bytes.bytesReceived).toBe(bytes.length + MiB);
    expect(fake.files.size).toBe(1);
  });

  it('takes an incorrect_offset answer after a lost append answer as the chunk sent, and goes on', async () => {
    const bytes = patternBytes(3 * testChunkBytes, 7);
    fake.faults.loseNextAnswer({ endpoint: 'files/upload_session/append_v2' });

    await deliver({ filename: 'lost-append.bin' }, bytes);

    const session = committedSession('/lost-append.bin');
    expect(fake.requests.filter((request) => request.endpoint === 'files/upload_session/append_v2').map((request) => request.status)).toEqual(['lost', 409, 200, 200]);
    expect(overlaps(session.bytes.acceptedRanges)).toBe(false);
    expect(session.bytes.bytesAccepted).toBe(bytes.length);
    expect(await fake.file('/lost-append.bin')?.bytes.sha256()).toBe(sha256(bytes));
  });

  it('continues, in the next attempt, an upload aborted mid-way, from the offset Dropbox confirms', async () => {
    const bytes = patternBytes(6 * testChunkBytes + 99, 8);
    const resume = new MemoryResume<DropboxResumeState>();
    const controller = new AbortController();
    const source = sourceOf(bytes);
    const watcher = setInterval(() => {
      if (source.position > 3 * testChunkBytes) controller.abort();
    }, 2);

    const first = await attemptFailure(moduleWith(), dropboxFields('aborted.bin'), source, { resume, signal: controller.signal }).finally(() => clearInterval(watcher));
    const saved = resume.state;
    const second = await deliver({ filename: 'aborted.bin' }, bytes, { resume });

    expect(first).toBeInstanceOf(TransientError);
    expect(saved?.offset).toBeGreaterThan(0);
    // The append in flight when the signal fired may still have been kept (its body had gone):
    // then Dropbox's offset, one chunk further, is where the next attempt goes on.
    expect([saved!.offset, saved!.offset + testChunkBytes]).toContain(second.details?.resumed_at);
    const session = committedSession('/aborted.bin');
    expect(session.id).toBe(saved?.sessionId);
    expect(overlaps(session.bytes.acceptedRanges)).toBe(false);
    expect(await fake.file('/aborted.bin')?.bytes.sha256()).toBe(sha256(bytes));
    expect(fake.files.size).toBe(1);
  });

  it("continues past a chunk whose answer the failed attempt never saw, hashing it from the source without sending it again", async () => {
    const bytes = patternBytes(4 * testChunkBytes, 9);
    const resume = new MemoryResume<DropboxResumeState>();
    // The second append is kept but its answer is lost, and no retry is allowed in the attempt.
    fake.faults.loseNextAnswer({ endpoint: 'files/upload_session/append_v2' });
    await fail({ filename: 'skipped.bin' }, bytes, { resume }, { retry: { delaysMs: [], maxRetryAfterSeconds: 0 } });
    const savedOffset = resume.state?.offset;

    const delivered = await deliver({ filename: 'skipped.bin' }, bytes, { resume });

    const session = committedSession('/skipped.bin');
    expect(savedOffset).toBe(0);
    expect(delivered.details?.resumed_at).toBe(testChunkBytes);
    expect(overlaps(session.bytes.acceptedRanges)).toBe(false);
    expect(session.bytes.bytesReceived).toBe(bytes.length);
    expect(await fake.file('/skipped.bin')?.bytes.sha256()).toBe(sha256(bytes));
  });

  it('starts a new session when the saved one expired', async () => {
    const bytes = patternBytes(3 * testChunkBytes, 10);
    const resume = new MemoryResume<DropboxResumeState>();
    resume.state = { sessionId: 'pid_upload_session:unknown', path: '/expired.bin', offset: testChunkBytes, contentHash: { words: '00'.repeat(32), pending: '', blocks: 2 } };

    await deliver({ filename: 'expired.bin' }, bytes, { resume });

    expect(await fake.file('/expired.bin')?.bytes.sha256()).toBe(sha256(bytes));
    expect(resume.state?.sessionId).not.toBe('pid_upload_session:unknown');
  });

  it('makes one file when the answer to finish is lost: it looks before finishing again', async () => {
    const bytes = patternBytes(2 * testChunkBytes + 5, 11);
    fake.faults.loseNextAnswer({ endpoint: 'files/upload_session/finish' });

    const delivered = await deliver({ filename: 'once.bin' }, bytes);

    expect(fake.files.size).toBe(1);
    expect(fake.requestCount('files/upload_session/finish')).toBe(1);
    expect(delivered.details?.path).toBe('/once.bin');
  });

  it('finds the renamed copy when the answer to an autorenamed finish is lost', async () => {
    await deliver({ filename: 'taken.bin' }, patternBytes(10, 1));
    const bytes = patternBytes(2 * testChunkBytes + 5, 12);
    fake.faults.loseNextAnswer({ endpoint: 'files/upload_session/finish' });

    const delivered = await deliver({ filename: 'taken.bin', autorename: true }, bytes);

    expect([...fake.files.keys()].sort()).toEqual(['/taken (1).bin', '/taken.bin']);
    expect(delivered.details?.path).toBe('/taken (1).bin');
    expect(fake.requestCount('files/upload_session/finish')).toBe(1);
  });

  it('makes one file when the answer to files/upload is lost', async () => {
    fake.faults.loseNextAnswer({ endpoint: 'files/upload' });

    await deliver({ filename: 'small-once.bin', autorename: true }, patternBytes(1000, 13));

    expect([...fake.files.keys()]).toEqual(['/small-once.bin']);
    expect(fake.requestCount('files/upload')).toBe(1);
  });

  it('recognizes, in the next attempt, a file committed by a finish whose answer was lost', async () => {
    const bytes = patternBytes(2 * testChunkBytes + 5, 14);
    const resume = new MemoryResume<DropboxResumeState>();
    fake.faults.loseNextAnswer({ endpoint: 'files/upload_session/finish' });
    fake.faults.failNext({ endpoint: 'files/get_metadata', status: 503 });
    const first = await fail({ filename: 'committed.bin' }, bytes, { resume }, { retry: { delaysMs: [], maxRetryAfterSeconds: 0 } });

    const delivered = await deliver({ filename: 'committed.bin' }, bytes, { resume });

    expect(first).toBeInstanceOf(TransientError);
    expect(fake.files.size).toBe(1);
    expect(fake.requestCount('files/upload_session/finish')).toBe(1);
    expect(delivered).toMatchObject({ bytes: bytes.length, details: { resumed_at: bytes.length, path: '/committed.bin' } });
  });

  it('recognizes, in the next attempt, a file of unknown size committed by a finish whose answer was lost, making no second copy', async () => {
    await deliver({ filename: 'unsized.bin' }, patternBytes(10, 1));
    const bytes = patternBytes(2 * testChunkBytes + 5, 20);
    const fields = dropboxFields('unsized.bin', { autorename: true });
    const resume = new MemoryResume<DropboxResumeState>();
    fake.faults.loseNextAnswer({ endpoint: 'files/upload_session/finish' });
    fake.faults.failNext({ endpoint: 'files/get_metadata', status: 503 });
    const first = await attemptFailure(moduleWith({ retry: { delaysMs: [], maxRetryAfterSeconds: 0 } }), fields, sourceOf(bytes, { size: undefined }), { resume });

    const delivered = await attemptUpload(moduleWith(), fields, sourceOf(bytes, { size: undefined }), { resume });

    expect(first).toBeInstanceOf(TransientError);
    expect([...fake.files.keys()].sort()).toEqual(['/unsized (1).bin', '/unsized.bin']);
    expect(fake.requestCount('files/upload_session/finish')).toBe(1);
    expect(delivered).toMatchObject({ bytes: bytes.length, details: { resumed_at: bytes.length, path: '/unsized (1).bin' } });
  });

  it('recognizes, in the next attempt, a file committed by a files/upload whose answer was lost, making no second copy', async () => {
    await deliver({ filename: 'single.bin' }, patternBytes(10, 1));
    const bytes = patternBytes(1000, 21);
    const resume = new MemoryResume<DropboxResumeState>();
    fake.faults.loseNextAnswer({ endpoint: 'files/upload' });
    fake.faults.failNext({ endpoint: 'files/get_metadata', status: 503 });
    const first = await fail({ filename: 'single.bin', autorename: true }, bytes, { resume }, { retry: { delaysMs: [], maxRetryAfterSeconds: 0 } });

    const delivered = await deliver({ filename: 'single.bin', autorename: true }, bytes, { resume });

    expect(first).toBeInstanceOf(TransientError);
    expect([...fake.files.keys()].sort()).toEqual(['/single (1).bin', '/single.bin']);
    expect(fake.requestCount('files/upload')).toBe(2);
    expect(delivered).toMatchObject({ bytes: bytes.length, details: { path: '/single (1).bin' } });
  });

  it('tries a chunk again after a 5xx and after a short throttle', async () => {
    const bytes = patternBytes(2 * testChunkBytes + 5, 15);
    fake.faults.failNext({ endpoint: 'files/upload_session/append_v2', status: 503 });
    fake.faults.throttleNext({ endpoint: 'files/upload_session/append_v2', retryAfterSeconds: 1 });

    await deliver({ filename: 'flaky.bin' }, bytes);

    expect(await fake.file('/flaky.bin')?.bytes.sha256()).toBe(sha256(bytes));
  });

  it('fails transiently with Dropbox\'s Retry-After when a throttle asks for a long wait, keeping the session', async () => {
    const bytes = patternBytes(2 * testChunkBytes + 5, 16);
    const resume = new MemoryResume<DropboxResumeState>();
    fake.faults.throttleNext({ endpoint: 'files/upload_session/append_v2', retryAfterSeconds: 300 });

    const error = await fail({ filename: 'throttled.bin' }, bytes, { resume });

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).retryAfterSeconds).toBe(300);
    expect(resume.state?.sessionId).toBeDefined();
  });

  it('deletes a stored file whose content hash differs from what was sent, and fails transiently', async () => {
    const damaging: Fetch = async (url, init) => {
      const response = await localNetwork.fetch(url, init);
      if (!url.endsWith('/2/files/upload')) return response;
      const metadata = (await response.json()) as Record<string, unknown>;
      return Response.json({ ...metadata, content_hash: '0'.repeat(64) }, { status: response.status });
    };

    const error = await fail({ filename: 'damaged.bin' }, patternBytes(1000, 17), {}, { fetch: damaging });

    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('content_hash_mismatch');
    expect(fake.file('/damaged.bin')).toBeUndefined();
  });

  it('closes the session when the delivery is discarded', async () => {
    const bytes = patternBytes(3 * testChunkBytes, 18);
    const resume = new MemoryResume<DropboxResumeState>();
    fake.faults.throttleNext({ endpoint: 'files/upload_session/append_v2', retryAfterSeconds: 300 });
    await fail({ filename: 'discarded.bin' }, bytes, { resume });
    const state = resume.state!;

    await uploaderFor(fake).discard!({ destination: dropboxFields('discarded.bin'), state, signal: AbortSignal.timeout(5000), network: localNetwork });

    expect(fake.sessions.get(state.sessionId!)?.closed).toBe(true);
    expect(openSessions(fake)).toEqual([]);
  });
});

describe('Dropbox destination: failures classified', () => {
  it.each([
    ['a different file is there (mode add)', 'path/conflict/file', 'mode "overwrite"'],
    ['the name is one Dropbox never stores', 'path/disallowed_name', 'choose another filename'],
    // The door refuses the paths Dropbox is known to find malformed: this one is given past it.
    ['Dropbox finds the path malformed', 'path/malformed_path', 'change filename'],
  ])('fails permanently when %s', async (_case, code, advice) => {
    await deliver({ filename: 'taken.mp4' }, patternBytes(10, 1));
    const filename = code === 'path/conflict/file' ? 'taken.mp4' : code === 'path/disallowed_name' ? 'folder/desktop.ini' : 'a/b.mp4';
    const destination = { ...dropboxFields(filename), ...(code === 'path/malformed_path' ? { filename: 'a/./b.mp4' } : {}) };

    const error = await attemptFailure(moduleWith(), destination, sourceOf(patternBytes(10, 2)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe(code);
    expect(error.message).toContain(advice);
    expect(await fake.file('/taken.mp4')?.bytes.read()).toEqual(patternBytes(10, 1));
  });

  it('fails permanently when the account is full', async () => {
    await fake.close();
    fake = await startDropboxFake({ allocatedBytes: 100 });
    grantTestToken(fake);

    const error = await fail({ filename: 'full.bin' }, patternBytes(1000));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('path/insufficient_space');
  });

  it.each([
    ['expired', 'expired_access_token', 'fresh oauth_token'],
    ['unknown', 'invalid_access_token', 'valid oauth_token'],
  ])('fails permanently when the access token is %s, saying what to do', async (state, code, advice) => {
    if (state === 'expired') fake.tokens.expire('dropbox-test-token');

    const error = await fail({ filename: 'token.bin', oauth_token: state === 'expired' ? 'dropbox-test-token' : 'forged' }, patternBytes(10));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe(code);
    expect(error.message).toContain(advice);
    expect(error.message).not.toContain('forged');
  });

  it('fails permanently naming the scope when the token lacks one', async () => {
    grantTestToken(fake, 'no-sharing', [dropboxScopes.contentWrite, dropboxScopes.metadataRead]);

    const error = await fail({ filename: 'link.bin', oauth_token: 'no-sharing', shared_link: true }, patternBytes(10));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('missing_scope');
    expect(error.message).toContain('sharing.write');
  });

  it('fails permanently when the refresh token was revoked (invalid_grant), saying to authorize again', async () => {
    const credentials = storedRefreshToken('revoked');
    fake.tokens.revoke(String(credentials.secrets.get('revoked')?.refresh_token));

    const error = await fail({ filename: 'x.bin', auth_secret: 'revoked', oauth_token: undefined }, patternBytes(10), { credentials, application: testApp });

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('invalid_grant');
    expect(error.message).toContain('npm run authorize -- dropbox');
  });

  it.each([
    ['the app secret is wrong', { app_key: testApp.app_key, app_secret: 'not-the-app-secret' }, 'invalid_client'],
    ['the deployment has no Dropbox app', undefined, 'DropboxAppMissing'],
  ])('fails permanently when %s', async (_case, application, code) => {
    const credentials = storedRefreshToken('app');

    const error = await fail({ filename: 'x.bin', auth_secret: 'app', oauth_token: undefined }, patternBytes(10), { credentials, ...(application ? { application } : {}) });

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe(code);
    expect(error.message).not.toContain('not-the-app-secret');
  });

  it('fails permanently when the stored secret holds no refresh token', async () => {
    const credentials = new MemoryCredentials();
    credentials.secrets.set('empty', { something: 'else' });

    const error = await fail({ filename: 'x.bin', auth_secret: 'empty', oauth_token: undefined }, patternBytes(10), { credentials, application: testApp });

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('InvalidSecret');
  });

  it('fails transiently when Dropbox answers 5xx on every try', async () => {
    fake.faults.failNext({ endpoint: 'files/upload', status: 500, times: 3 });

    const error = await fail({ filename: 'down.bin' }, patternBytes(10));

    expect(error).toBeInstanceOf(TransientError);
    expect(fake.files.size).toBe(0);
  });
});
