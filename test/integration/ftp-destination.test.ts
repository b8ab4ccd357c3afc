import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ftpDestination, ftpDestinationSchema, type FtpDestinationFields } from '../../functions/destinations/ftp/schema.ts';
import type { FtpResumeState } from '../../functions/destinations/ftp/store.ts';
import { createFtpUploader, defaultFtpUploaderSettings, type FtpUploaderSettings } from '../../functions/destinations/ftp/upload.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { outboundNetwork, type OutboundNetwork } from '../../shared/net/outbound-network.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { localNetwork } from '../support/network.ts';
import { startFtpServer, type TestFtpServer } from '../support/servers/ftp.ts';
import { startScriptedFtpServer, type ScriptedFtpServer, type ScriptedFtpServerOptions } from '../support/servers/scripted-ftp.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';
import { waitFor } from '../support/wait.ts';

const MiB = 1024 * 1024;

/** Short waits, so the failures that take a timeout are quick to test. */
const testSettings: FtpUploaderSettings = {
  timeoutMilliseconds: 2_000,
  stopGraceMilliseconds: 1_000,
  pool: { ...defaultFtpUploaderSettings.pool, checkMilliseconds: 300 },
};
const uploader = createFtpUploader(testSettings);
const module = { definition: ftpDestination, uploader };

let plain: TestFtpServer;
let explicit: TestFtpServer;
let implicit: TestFtpServer;
/** Scripted servers and other listeners a test started, closed after it. */
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [plain, explicit, implicit] = await Promise.all([startFtpServer(), startFtpServer({ secure: 'explicit' }), startFtpServer({ secure: 'implicit' })]);
});

afterAll(async () => {
  await uploader.shutdown?.();
  await Promise.all([plain.close(), explicit.close(), implicit.close()]);
});

afterEach(async () => {
  await uploader.shutdown?.();
  for (const close of closers.splice(0)) await close();
});

function destination(server: { host: string; port: number; user: string; password: string }, fields: Record<string, unknown> = {}): FtpDestinationFields {
  return ftpDestinationSchema.parse({
    type: 'ftp',
    host: `${server.host}:${server.port}`,
    filename: '/deliveries/file.bin',
    user: server.user,
    password: server.password,
    ...fields,
  });
}

async function scripted(options: ScriptedFtpServerOptions = {}): Promise<ScriptedFtpServer> {
  const server = await startScriptedFtpServer(options);
  closers.push(() => server.close());
  return server;
}

/** A TCP listener on 127.0.0.1 that does `onConnection` with each connection (stays silent, hangs up…). */
async function rawServer(onConnection: (socket: import('node:net').Socket) => void): Promise<number> {
  const server: Server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

async function partialFilesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true });
  return entries.filter((entry) => entry.endsWith('.partial'));
}

describe('FTP destination against ftp-srv', () => {
  it("delivers the seeds' example: folders created, the file renamed into place, an ftp:// URL without credentials, a note on passive mode", async () => {
    // Prepare
    const bytes = patternBytes(300_001, 31);
    const fields = destination(plain, { filename: '/videos/welcome.mp4' });

    // Act
    const delivered = await attemptUpload(module, fields, sourceOf(bytes));

    // Assess
    expect(sha256(await readFile(join(plain.root, 'videos/welcome.mp4')))).toBe(sha256(bytes));
    expect(delivered.url).toBe(`ftp://127.0.0.1:${plain.port}/videos/welcome.mp4`);
    expect(delivered.url).not.toContain(plain.user);
    expect(delivered.url).not.toContain(plain.password);
    expect(delivered.notes).toEqual([expect.stringContaining('delivered in passive mode: active mode (passive: false) is impossible')]);
    expect(delivered.details).toMatchObject({ path: '/videos/welcome.mp4', command: 'STOR', data_connection: 'PASV' });
    // Every byte went to a temporary file beside it; none to the final name.
    expect(plain.bytesWritten('/videos/welcome.mp4')).toBe(0);
    expect(plain.transfers.filter((transfer) => transfer.path.startsWith('/videos/'))).toEqual([
      expect.objectContaining({ path: expect.stringMatching(/^\/videos\/\.welcome\.mp4\.[0-9a-f]{16}\.partial$/), bytes: bytes.length }),
    ]);
    expect(await partialFilesUnder(plain.root)).toEqual([]);
  });

  it('adds no note when passive is true, and takes the port from the port field', async () => {
    const delivered = await attemptUpload(module, destination(plain, { host: '127.0.0.1', port: plain.port, passive: true, filename: 'relative/a.bin' }), sourceOf(patternBytes(10)));

    expect(delivered.notes).toEqual([]);
    expect(await readFile(join(plain.root, 'relative/a.bin'))).toHaveLength(10);
  });

  it('replaces a file already under the final name', async () => {
    const fields = destination(plain, { filename: '/replaced/file.bin' });
    await attemptUpload(module, fields, sourceOf(patternBytes(5_000, 1)));

    await attemptUpload(module, fields, sourceOf(patternBytes(2_000, 2)));

    expect(sha256(await readFile(join(plain.root, 'replaced/file.bin')))).toBe(sha256(patternBytes(2_000, 2)));
  });

  it('continues a broken upload with APPE from the size the server reports', async () => {
    // Prepare
    const bytes = patternBytes(3 * MiB, 32);
    const fields = destination(plain, { filename: '/resumed/appended.bin' });
    const resume = new MemoryResume<FtpResumeState>();
    await attemptFailure(module, fields, sourceOf(bytes, { failsAt: 2 * MiB }), { resume });
    const kept = (await readFile(join(plain.root, resume.state!.temporaryPath))).length;

    // Act
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    // Assess
    expect(kept).toBeGreaterThan(0);
    expect(delivered.details).toMatchObject({ command: 'APPE', resumed_at: kept });
    expect(plain.bytesWritten(resume.state!.temporaryPath)).toBe(bytes.length);
    expect(sha256(await readFile(join(plain.root, 'resumed/appended.bin')))).toBe(sha256(bytes));
  });

  it('starts a new temporary file when the one an earlier attempt named is gone', async () => {
    const resume = new MemoryResume<FtpResumeState>();
    resume.state = { path: '/gone/file.bin', temporaryPath: '/gone/.file.bin.0000000000000000.partial' };

    const delivered = await attemptUpload(module, destination(plain, { filename: '/gone/file.bin' }), sourceOf(patternBytes(1_000)), { resume });

    expect(delivered.details).toMatchObject({ command: 'STOR' });
    expect(delivered.details).not.toHaveProperty('resumed_at');
    expect(await readFile(join(plain.root, 'gone/file.bin'))).toHaveLength(1_000);
  });

  it('discards the temporary file a failed delivery left, and a missing one is no error', async () => {
    // Prepare
    const fields = destination(plain, { filename: '/discarded/file.bin' });
    const resume = new MemoryResume<FtpResumeState>();
    await attemptFailure(module, fields, sourceOf(patternBytes(2 * MiB), { failsAt: MiB }), { resume });
    const access = { destination: fields, state: resume.state!, signal: new AbortController().signal, network: localNetwork };
    expect(await partialFilesUnder(plain.root)).toHaveLength(1);

    // Act
    await uploader.discard!(access);
    await uploader.discard!(access);

    // Assess
    expect(await partialFilesUnder(plain.root)).toEqual([]);
  });

  it('probes a folder filename: creates the folder, writes and deletes a file there, leaves nothing', async () => {
    const checks = await uploader.probe!({ destination: destination(plain, { filename: '/probed/' }), signal: new AbortController().signal, network: localNetwork });

    expect(checks).toEqual([
      { name: 'login', ok: true, detail: expect.stringContaining(`as ${plain.user}`) },
      { name: 'write', ok: true, detail: expect.stringMatching(/^wrote and deleted \/probed\/\.upload-destinations-probe\.[0-9a-f]{16}\.partial$/) },
    ]);
    expect(await readdir(join(plain.root, 'probed'))).toEqual([]);
  });

  it('fails permanently on a wrong password (530), with the server’s message and without the password', async () => {
    const error = await attemptFailure(module, destination(plain, { password: 'not-the-password' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('LoginFailed');
    expect(error.message).toContain('530');
    expect(error.message).toContain('wrong user name or password');
    expect(error.message).not.toContain('not-the-password');
  });
});

describe('FTP destination over FTPS (ftp-srv)', () => {
  it.each([
    { name: 'explicit', server: () => explicit },
    { name: 'implicit', server: () => implicit },
  ])('delivers over $name FTPS with a pinned certificate and answers an ftps:// URL', async ({ name, server }) => {
    const bytes = patternBytes(200_000, 33);

    const delivered = await attemptUpload(
      module,
      destination(server(), { secure: name, certificate_fingerprint: server().fingerprint256, filename: '/secure/file.bin' }),
      sourceOf(bytes),
    );

    expect(delivered.url).toBe(`ftps://127.0.0.1:${server().port}/secure/file.bin`);
    expect(sha256(await readFile(join(server().root, 'secure/file.bin')))).toBe(sha256(bytes));
  });

  it.each([
    { name: 'explicit', server: () => explicit },
    { name: 'implicit', server: () => implicit },
  ])('fails permanently, before logging in, when the $name FTPS certificate is not the pinned one', async ({ name, server }) => {
    const logins = server().logins;

    const error = await attemptFailure(module, destination(server(), { secure: name, certificate_fingerprint: 'AB'.repeat(32) }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'CertificateMismatch', message: expect.stringContaining(server().fingerprint256!) });
    expect(server().logins).toBe(logins);
  });

  it('verifies the certificate by default: a self-signed server without a pin fails permanently, pointing at certificate_fingerprint', async () => {
    const error = await attemptFailure(module, destination(explicit, { secure: 'explicit' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'UntrustedCertificate', message: expect.stringContaining('certificate_fingerprint') });
  });

  it('fails permanently when implicit FTPS meets a plain FTP port', async () => {
    const error = await attemptFailure(module, destination(plain, { secure: 'implicit' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('NotTls');
  });

  it('fails permanently when the server does not offer explicit FTPS (AUTH TLS refused)', async () => {
    const server = await scripted();

    const error = await attemptFailure(module, destination(server, { secure: 'explicit' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'TlsNotOffered', message: expect.stringContaining('502') });
    expect(server.commands).not.toContain('PASS ***');
  });
});

describe('FTP destination, passive mode (scripted server)', () => {
  it('opens data connections with PASV by default', async () => {
    const server = await scripted();

    await attemptUpload(module, destination(server), sourceOf(patternBytes(1_000)));

    expect(server.commands).toContain('PASV');
    expect(server.commands).not.toContain('EPSV');
  });

  it('opens data connections with EPSV when epsv is true', async () => {
    const server = await scripted();

    const delivered = await attemptUpload(module, destination(server, { epsv: true, passive: true }), sourceOf(patternBytes(1_000)));

    expect(server.commands).toContain('EPSV');
    expect(server.commands).not.toContain('PASV');
    expect(delivered.notes).toEqual([]);
    expect(server.files.get('/deliveries/file.bin')).toHaveLength(1_000);
  });

  it("connects to the control connection's address when PASV names a private one (a server behind NAT)", async () => {
    const server = await scripted({ passiveAddress: '10.1.2.3' });

    await attemptUpload(module, destination(server), sourceOf(patternBytes(1_000)));

    expect(server.dataConnections).toEqual([expect.objectContaining({ address: '127.0.0.1' })]);
    expect(server.files.get('/deliveries/file.bin')).toHaveLength(1_000);
  });

  it('falls back to EPSV when the server refuses PASV, and says so in a note', async () => {
    const server = await scripted({ replies: { PASV: '502 PASV not implemented' } });

    const delivered = await attemptUpload(module, destination(server, { passive: true }), sourceOf(patternBytes(1_000)));

    expect(server.commands).toContain('EPSV');
    expect(delivered.notes).toEqual(['PASV gave no usable data connection (refused, unreadable, or an address that could not be reached): EPSV was used']);
    expect(delivered.details).toMatchObject({ data_connection: 'EPSV' });
  });

  it('falls back to EPSV when the public address PASV names cannot be reached', async () => {
    // 198.51.100.7 (documentation, TEST-NET-2) is routable in form, reachable nowhere.
    const server = await scripted({ passiveAddress: '198.51.100.7' });

    const delivered = await attemptUpload(module, destination(server, { passive: true }), sourceOf(patternBytes(1_000)));

    expect(server.commands).toEqual(expect.arrayContaining(['PASV', 'EPSV']));
    expect(server.dataConnections).toEqual([expect.objectContaining({ address: '127.0.0.1' })]);
    expect(delivered.details).toMatchObject({ data_connection: 'EPSV' });
    expect(server.files.get('/deliveries/file.bin')).toHaveLength(1_000);
  });

  it('fails permanently, naming the folder, when a missing folder cannot be created', async () => {
    const server = await scripted({ replies: { MKD: '550 Permission denied' } });

    const error = await attemptFailure(module, destination(server, { filename: '/videos/welcome.mp4' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'FileUnavailable', message: expect.stringContaining('create folder /videos: 550 Permission denied; then store /videos/.welcome.mp4.') });
  });

  it('fails permanently when the server refuses both passive modes', async () => {
    const server = await scripted({ replies: { PASV: '502 No', EPSV: '502 No' } });

    const error = await attemptFailure(module, destination(server), sourceOf(patternBytes(1_000)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'PassiveModeRefused', message: expect.stringContaining('PASV: 502 No; EPSV: 502 No') });
  });

  it('continues with REST + STOR where the server announces REST STREAM, sending only the rest', async () => {
    // Prepare
    const server = await scripted({ features: ['SIZE', 'REST STREAM'] });
    const bytes = patternBytes(2 * MiB, 34);
    const resume = new MemoryResume<FtpResumeState>();
    const fields = destination(server, { filename: '/restarted.bin' });
    await attemptFailure(module, fields, sourceOf(bytes, { failsAt: MiB }), { resume });
    const kept = server.files.get(resume.state!.temporaryPath)!.length;
    server.commands.length = 0;

    // Act
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    // Assess
    expect(kept).toBeGreaterThan(0);
    const restart = server.commands.indexOf(`REST ${kept}`);
    expect(restart).toBeGreaterThan(0);
    expect(server.commands[restart + 1]).toBe(`STOR ${resume.state!.temporaryPath}`);
    expect(delivered.details).toMatchObject({ command: 'REST+STOR', resumed_at: kept });
    expect(sha256(server.files.get('/restarted.bin')!)).toBe(sha256(bytes));
    expect(server.files.has(resume.state!.temporaryPath)).toBe(false);
  });

  it.each<{ refusal: Record<string, string>; features: string[]; command: string }>([
    { refusal: { REST: '502 REST not implemented' }, features: ['SIZE', 'REST STREAM'], command: 'APPE' },
    { refusal: { APPE: '502 APPE not implemented' }, features: ['SIZE'], command: 'STOR' },
    // ProFTPD's answer without AllowStoreRestart: a 4xx that will not change on the next attempt.
    { refusal: { APPE: '451 /.fallback.bin: Append/Restart not permitted, try again' }, features: ['SIZE'], command: 'STOR' },
  ])('falls back to $command when the server refuses to continue with $refusal', async ({ refusal, features, command }) => {
    // Prepare
    const server = await scripted({ features, replies: refusal });
    const bytes = patternBytes(2 * MiB, 35);
    const resume = new MemoryResume<FtpResumeState>();
    const fields = destination(server, { filename: '/fallback.bin', passive: true });
    await attemptFailure(module, fields, sourceOf(bytes, { failsAt: MiB }), { resume });
    const kept = server.files.get(resume.state!.temporaryPath)!.length;

    // Act
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    // Assess
    expect(sha256(server.files.get('/fallback.bin')!)).toBe(sha256(bytes));
    if (command === 'APPE') {
      expect(delivered.details).toMatchObject({ command: 'APPE', resumed_at: kept });
      expect(delivered.notes).toEqual([]);
    } else {
      expect(delivered.details).toMatchObject({ command: 'STOR' });
      expect(delivered.notes).toEqual([expect.stringContaining("the server refused to continue the earlier attempt's file")]);
    }
  });

  it.each([
    { refusal: '425 Cannot open data connection', code: 'DataConnectionFailed' },
    { refusal: '450 File busy', code: 'FileBusy' },
  ])('keeps the earlier file for the next attempt, sending nothing whole, when continuing it meets "$refusal"', async ({ refusal, code }) => {
    // Prepare
    let refusals = 0;
    const server = await scripted({ replies: { APPE: () => (refusals++ === 0 ? refusal : undefined) } });
    const bytes = patternBytes(2 * MiB, 36);
    const resume = new MemoryResume<FtpResumeState>();
    const fields = destination(server, { filename: '/momentary.bin', passive: true });
    await attemptFailure(module, fields, sourceOf(bytes, { failsAt: MiB }), { resume });
    const kept = server.files.get(resume.state!.temporaryPath)!.length;
    server.commands.length = 0;

    // Act
    const refused = await attemptFailure(module, fields, sourceOf(bytes), { resume });
    const delivered = await attemptUpload(module, fields, sourceOf(bytes), { resume });

    // Assess
    expect(refused).toMatchObject({ code, retryable: true });
    expect(server.commands.filter((command) => command.startsWith('STOR'))).toEqual([]);
    expect(delivered.details).toMatchObject({ command: 'APPE', resumed_at: kept });
    expect(delivered.notes).toEqual([]);
    expect(sha256(server.files.get('/momentary.bin')!)).toBe(sha256(bytes));
  });

  it('renames over an existing file on a server that refuses to (as IIS does), deleting the old one first', async () => {
    const server = await scripted({ replies: { RNTO: (path) => (path === '/taken.bin' && server.files.has('/taken.bin') ? '550 File exists' : undefined) } });
    server.files.set('/taken.bin', Buffer.from('old'));

    await attemptUpload(module, destination(server, { filename: '/taken.bin' }), sourceOf(patternBytes(1_000)));

    expect(server.files.get('/taken.bin')).toHaveLength(1_000);
    expect(server.commands.filter((command) => command.startsWith('DELE'))).toEqual(['DELE /taken.bin']);
  });
});

describe('FTP destination behind the network guard', () => {
  it('refuses a control connection to a private address under the deployed policy, before connecting', async () => {
    const server = await scripted();
    const deployed = outboundNetwork({ allowPrivateNetworks: false });

    const error = await attemptFailure(module, destination(server), sourceOf(patternBytes(10)), { network: deployed });

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'EADDRNOTALLOWED', message: expect.stringContaining('127.0.0.1') });
    expect(server.commands).toEqual([]);
  });

  it('makes every data connection through the guard: a refused data address fails permanently, no data connection made', async () => {
    // Prepare: the policy refuses private networks from the moment the server is asked for a
    // data connection, so the control connection gets through and the data connection must not.
    let refusing = false;
    const network: OutboundNetwork = Object.defineProperty({ ...localNetwork }, 'allowPrivateNetworks', { get: () => !refusing });
    const server = await scripted({
      replies: {
        PASV: () => {
          refusing = true;
          return undefined;
        },
      },
    });

    // Act
    const error = await attemptFailure(module, destination(server), sourceOf(patternBytes(10)), { network });

    // Assess
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'EADDRNOTALLOWED', message: expect.stringContaining('127.0.0.1') });
    expect(server.commands).toContain('PASV');
    expect(server.dataConnections).toEqual([]);
  });
});

describe('FTP destination, failures classified', () => {
  it.each<{ replies: Record<string, string>; kind: typeof PermanentError | typeof TransientError; code: string }>([
    { replies: { STOR: '552 Quota exceeded' }, kind: PermanentError, code: 'StorageExceeded' },
    { replies: { STOR: '553 File name not allowed' }, kind: PermanentError, code: 'FileNameNotAllowed' },
    { replies: { STOR: '550 Permission denied' }, kind: PermanentError, code: 'FileUnavailable' },
    { replies: { PASS: '530 Not logged in' }, kind: PermanentError, code: 'LoginFailed' },
    { replies: { GREETING: '421 Too many connections' }, kind: TransientError, code: 'ServiceNotAvailable' },
    // ProFTPD refuses a login over its MaxClients limits with 530 (mod_auth's default texts).
    { replies: { PASS: '530 Sorry, the maximum number of clients (2) for this user are already connected.' }, kind: TransientError, code: 'ServerBusy' },
    { replies: { PASS: '530 Sorry, the maximum number of allowed clients (10) are already connected.' }, kind: TransientError, code: 'ServerBusy' },
    // IIS answers Windows' sharing violation while another process holds the file open.
    { replies: { STOR: '550 The process cannot access the file because it is being used by another process.' }, kind: TransientError, code: 'ServerBusy' },
    { replies: { STOR: '550 No such file or directory' }, kind: PermanentError, code: 'FileUnavailable' },
    { replies: { PASS: '530 Login incorrect.' }, kind: PermanentError, code: 'LoginFailed' },
    { replies: { STOR: '425 Cannot open data connection' }, kind: TransientError, code: 'DataConnectionFailed' },
    { replies: { STOR: '426 Connection closed; transfer aborted' }, kind: TransientError, code: 'TransferAborted' },
    { replies: { STOR: '450 File busy' }, kind: TransientError, code: 'FileBusy' },
    { replies: { STOR: '451 Local error in processing' }, kind: TransientError, code: 'ServerLocalError' },
  ])('classifies $replies as $code, with the server’s message', async ({ replies, kind, code }) => {
    const server = await scripted({ replies });

    const error = await attemptFailure(module, destination(server), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(kind);
    expect(error.code).toBe(code);
    expect(error.message).toContain(Object.values(replies)[0]);
    expect(error.cause).toBeDefined();
  });

  it('fails transiently when the server does not answer in time', async () => {
    const port = await rawServer(() => undefined);

    const error = await attemptFailure(module, destination({ host: '127.0.0.1', port, user: 'u', password: 'p' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('Timeout');
  });

  it('fails transiently when the server hangs up', async () => {
    const port = await rawServer((socket) => socket.destroy());

    const error = await attemptFailure(module, destination({ host: '127.0.0.1', port, user: 'u', password: 'p' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(TransientError);
  });
});

describe('FTP destination, connections kept between deliveries', () => {
  it('logs in once for several deliveries to the same server', async () => {
    const logins = plain.logins;

    for (const index of [1, 2, 3]) await attemptUpload(module, destination(plain, { filename: `/pooled/${index}.bin` }), sourceOf(patternBytes(1_000)));

    expect(plain.logins - logins).toBe(1);
  });

  it('replaces a kept connection the server dropped, without failing the delivery', async () => {
    const logins = plain.logins;
    await attemptUpload(module, destination(plain, { filename: '/dropped/1.bin' }), sourceOf(patternBytes(1_000)));
    plain.dropConnections();
    await waitFor(async () => (plain.openConnections === 0 ? true : undefined), 5_000, 'the connections to drop');

    await attemptUpload(module, destination(plain, { filename: '/dropped/2.bin' }), sourceOf(patternBytes(1_000)));

    expect(plain.logins - logins).toBe(2);
    expect(await readFile(join(plain.root, 'dropped/2.bin'))).toHaveLength(1_000);
  });

  it('replaces a kept connection that no longer answers', async () => {
    const server = await scripted({ replies: { NOOP: '' } });
    await attemptUpload(module, destination(server, { filename: '/1.bin' }), sourceOf(patternBytes(1_000)));

    await attemptUpload(module, destination(server, { filename: '/2.bin' }), sourceOf(patternBytes(1_000)));

    expect(server.commands.filter((command) => command.startsWith('USER'))).toHaveLength(2);
    expect(server.commands).toContain('NOOP');
    expect(server.files.get('/2.bin')).toHaveLength(1_000);
  });

  it('closes idle connections after a while, and every kept one on shutdown', async () => {
    // Prepare
    const quick = createFtpUploader({ ...testSettings, pool: { ...testSettings.pool, maxIdleMilliseconds: 200 } });
    closers.push(() => quick.shutdown!());
    await attemptUpload({ definition: ftpDestination, uploader: quick }, destination(plain, { filename: '/idle/1.bin' }), sourceOf(patternBytes(10)));
    await attemptUpload(module, destination(plain, { filename: '/idle/2.bin' }), sourceOf(patternBytes(10)));
    expect(plain.openConnections).toBe(2);

    // Act
    await waitFor(async () => (plain.openConnections === 1 ? true : undefined), 5_000, 'the idle connection to close');
    await uploader.shutdown!();

    // Assess
    await waitFor(async () => (plain.openConnections === 0 ? true : undefined), 5_000, 'every connection to close');
  });

  it('keeps nothing from a delivery that failed', async () => {
    await mkdir(join(plain.root, 'failed'), { recursive: true });
    const before = plain.openConnections;

    await attemptFailure(module, destination(plain, { filename: '/failed/file.bin' }), sourceOf(patternBytes(2 * MiB), { failsAt: MiB }));

    await waitFor(async () => (plain.openConnections === before ? true : undefined), 5_000, 'the failed connection to close');
  });
});
