import { generateKeyPairSync } from 'node:crypto';
import { chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConnectionSettings, openSftpSession } from '../../functions/destinations/sftp/client.ts';
import { RemoteFiles } from '../../functions/destinations/sftp/remote-files.ts';
import { localNetwork } from '../support/network.ts';
import { isTemporaryName } from '../../functions/destinations/sftp/paths.ts';
import { sftpDestination, sftpDestinationSchema } from '../../functions/destinations/sftp/schema.ts';
import { defaultSftpSettings, sftpUploader, sftpUploaderWith, type SftpResumeState } from '../../functions/destinations/sftp/upload.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { outboundNetwork } from '../../shared/net/outbound-network.ts';
import { SourceReader } from '../../shared/sources/delivery-source.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { startSftpServer, type TestSftpServer } from '../support/servers/sftp.ts';
import { SftpWriteCounter } from '../support/sftp-writes.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';
import { waitFor } from '../support/wait.ts';

const MiB = 1024 * 1024;
const module = { definition: sftpDestination, uploader: sftpUploader };
const writes = new SftpWriteCounter();
let server: TestSftpServer;
/** Servers a test started beside sshd, closed after the file. */
const helpers: Server[] = [];

beforeAll(async () => {
  server = await startSftpServer();
});

afterAll(async () => {
  for (const helper of helpers) helper.close();
  await server.close();
});

function destination(fields: Record<string, unknown>) {
  return sftpDestinationSchema.parse({
    type: 'sftp',
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    host_key: server.hostKeyFingerprint,
    ...fields,
  });
}

/** The file as it stands on the server's disk, by its path under the login folder. */
function onDisk(path: string): Promise<Buffer> {
  return readFile(join(server.root, path));
}

async function temporaryFilesIn(folder: string): Promise<string[]> {
  return (await readdir(join(server.root, folder))).filter(isTemporaryName);
}

/** A loopback TCP server; `onSocket` decides what each connection gets. */
async function tcpServer(onSocket: (socket: Socket) => void): Promise<number> {
  const helper = createServer(onSocket);
  helpers.push(helper);
  await new Promise<void>((resolve) => helper.listen(0, '127.0.0.1', resolve));
  return (helper.address() as AddressInfo).port;
}

/** A relay to sshd that cuts the connection once the client has sent `limit` bytes through it. */
function relayCuttingAfter(limit: number): Promise<number> {
  return tcpServer((client) => {
    const upstream = connect(server.port, '127.0.0.1');
    let relayed = 0;
    client.on('data', (chunk: Buffer) => {
      relayed += chunk.length;
      if (relayed > limit) {
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
}

/** A relay to sshd whose connections the test cuts when it chooses, as a dropped network would. */
async function cuttableRelay(): Promise<{ port: number; cut(): void }> {
  const relayed = new Set<Socket>();
  const port = await tcpServer((client) => {
    const upstream = connect(server.port, '127.0.0.1');
    relayed.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return { port, cut: () => relayed.forEach((socket) => socket.resetAndDestroy()) };
}

describe('SFTP destination against OpenSSH sshd', () => {
  it('stores the file under its full path, creating missing folders, and answers its sftp:// URL', async () => {
    // Prepare
    const bytes = patternBytes(3 * MiB + 5, 31);
    const path = join(server.root, 'renders', '2024', 'june', 'welcome take 1.mp4');

    // Act
    const result = await attemptUpload(module, destination({ filename: path }), sourceOf(bytes));

    // Assess
    expect(sha256(await readFile(path))).toBe(sha256(bytes));
    expect(result).toMatchObject({
      url: `sftp://127.0.0.1:${server.port}${server.root}/renders/2024/june/welcome%20take%201.mp4`,
      bytes: bytes.length,
      details: { path, host_key: server.hostKeyFingerprint, rename: 'posix-rename' },
    });
    expect(result.notes).toBeUndefined();
    expect(await temporaryFilesIn('renders/2024/june')).toEqual([]);
  });

  it('answers the absolute path of a filename relative to the login folder', async () => {
    const result = await attemptUpload(module, destination({ filename: 'relative/clip.bin' }), sourceOf(patternBytes(100)));

    expect(await onDisk('relative/clip.bin')).toHaveLength(100);
    expect(result.url).toBe(`sftp://127.0.0.1:${server.port}${server.root}/relative/clip.bin`);
  });

  it.each([
    ['an unencrypted private key', () => ({ password: undefined, private_key: server.privateKey })],
    ['a passphrase-protected private key', () => ({ password: undefined, private_key: server.encryptedPrivateKey, passphrase: server.passphrase })],
  ])('logs in with %s', async (_login, credentials) => {
    const bytes = patternBytes(5000, 32);

    await attemptUpload(module, destination({ filename: 'keys/file.bin', ...credentials() }), sourceOf(bytes));

    expect(sha256(await onDisk('keys/file.bin'))).toBe(sha256(bytes));
  });

  it('records the host key it saw when none is pinned, so the user can pin it', async () => {
    const result = await attemptUpload(module, destination({ filename: 'unpinned.bin', host_key: undefined }), sourceOf(patternBytes(10)));

    expect(result.details).toMatchObject({ host_key: server.hostKeyFingerprint });
    expect(result.notes).toEqual([`the server's host key was not checked: pin it with "host_key": "${server.hostKeyFingerprint}"`]);
  });

  it('replaces an existing file in one rename, never truncating it in place', async () => {
    // Prepare
    // Made by the test (root), owned by the SFTP user as if it had made them.
    const owner = await stat(server.root);
    await mkdir(join(server.root, 'replace'), { recursive: true });
    await chown(join(server.root, 'replace'), owner.uid, owner.gid);
    await writeFile(join(server.root, 'replace', 'file.bin'), 'the old content');
    const before = await stat(join(server.root, 'replace', 'file.bin'));
    const bytes = patternBytes(200_000, 33);

    // Act
    const result = await attemptUpload(module, destination({ filename: 'replace/file.bin' }), sourceOf(bytes));

    // Assess
    const after = await stat(join(server.root, 'replace', 'file.bin'));
    expect(sha256(await onDisk('replace/file.bin'))).toBe(sha256(bytes));
    // Another inode: the new file was renamed over the old one, which was never opened for writing.
    expect(after.ino).not.toBe(before.ino);
    expect(result.details).toMatchObject({ rename: 'posix-rename' });
  });

  it('replaces an existing file by removing it first on a server without POSIX rename', async () => {
    // Prepare: a session that behaves as if the server had not announced posix-rename@openssh.com.
    const session = await openSftpSession(destination({ filename: 'unused' }), localNetwork, new AbortController().signal);
    const files = new RemoteFiles({ ...session, offersPosixRename: false });
    await files.close(await files.create('plain-rename/new.bin'), 'plain-rename/new.bin');
    await writeFile(join(server.root, 'plain-rename', 'old.bin'), 'the old content');

    // Act
    const how = await files.replace('plain-rename/new.bin', 'plain-rename/old.bin').finally(() => session.close());

    // Assess
    expect(how).toBe('remove-and-rename');
    expect(await onDisk('plain-rename/old.bin')).toEqual(Buffer.alloc(0));
    expect(await readdir(join(server.root, 'plain-rename'))).toEqual(['old.bin']);
  });

  it('writes with many requests in flight, each at most the configured size', async () => {
    const bytes = patternBytes(2 * MiB, 34);
    const uploader = sftpUploaderWith({ ...defaultSftpSettings, writes: { writeBytes: 16 * 1024, requestsInFlight: 8 } });
    writes.resetPeaks();

    await attemptUpload({ definition: sftpDestination, uploader }, destination({ filename: 'pipelined.bin' }), sourceOf(bytes));

    expect(sha256(await onDisk('pipelined.bin'))).toBe(sha256(bytes));
    expect(writes.bytesTo((path) => path.includes('.pipelined.bin.'))).toBe(bytes.length);
    expect(writes.largestWrite).toBe(16 * 1024);
    expect(writes.mostInFlight).toBe(8);
  });

  it('continues after the connection dropped mid-way, from the size of the temporary file', async () => {
    // Prepare
    const bytes = patternBytes(8 * MiB, 35);
    const resume = new MemoryResume<SftpResumeState>();
    const cutting = await relayCuttingAfter(3 * MiB);

    const writtenTo = (path: string | undefined): number => writes.bytesTo((written) => written === path);

    // Act
    const first = await attemptFailure(module, destination({ filename: 'dropped/file.bin', port: cutting }), sourceOf(bytes), { resume });
    const temporaryPath = resume.state?.temporaryPath;
    const sentBefore = writtenTo(temporaryPath);
    const second = await attemptUpload(module, destination({ filename: 'dropped/file.bin' }), sourceOf(bytes), { resume });

    // Assess
    expect(first).toBeInstanceOf(TransientError);
    const resumedAt = Number(second.details?.resumed_at);
    // What the server had written when the second attempt looked: more than nothing, less than the cut.
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(3 * MiB);
    expect(writtenTo(temporaryPath) - sentBefore).toBe(bytes.length - resumedAt);
    expect(sha256(await onDisk('dropped/file.bin'))).toBe(sha256(bytes));
    expect(await temporaryFilesIn('dropped')).toEqual([]);
  });

  it('starts again at the temporary path an earlier attempt saved when no file is there (it ended before creating it)', async () => {
    const resume = new MemoryResume<SftpResumeState>();
    resume.state = { filename: 'gone/file.bin', temporaryPath: 'gone/.file.bin.0000000000000000.upload-part' };
    const bytes = patternBytes(1000, 36);

    const result = await attemptUpload(module, destination({ filename: 'gone/file.bin' }), sourceOf(bytes), { resume });

    expect(sha256(await onDisk('gone/file.bin'))).toBe(sha256(bytes));
    expect(result.details).not.toHaveProperty('resumed_at');
    expect(resume.state.temporaryPath).toBe('gone/.file.bin.0000000000000000.upload-part');
    expect(await temporaryFilesIn('gone')).toEqual([]);
  });

  it('saves a new temporary path before it creates the file, so an attempt cut off in between leaves nothing unknown', async () => {
    // Prepare: the attempt ends (a crash) as soon as its state is saved, before the file is made.
    class EndsAtSave extends MemoryResume<SftpResumeState> {
      public override async save(state: SftpResumeState): Promise<void> {
        await super.save(state);
        throw new Error('the function environment crashed');
      }
    }
    const resume = new EndsAtSave();

    await attemptFailure(module, destination({ filename: 'cut/file.bin' }), sourceOf(patternBytes(1000, 37)), { resume });

    expect(resume.state?.temporaryPath).toMatch(/^cut\/\.file\.bin\.[0-9a-f]{16}\.upload-part$/);
    expect(await temporaryFilesIn('cut').catch(() => [])).toEqual([]);
  });

  it('renames the complete temporary file of an attempt that ended before its rename, leaving no temporary file behind', async () => {
    // Prepare: the first attempt ends (a crash) once it has noted the rename, before asking for it.
    class EndsAtRenaming extends MemoryResume<SftpResumeState> {
      public ending = true;
      public override async save(state: SftpResumeState): Promise<void> {
        await super.save(state);
        if (state.renaming && this.ending) throw new Error('the function environment crashed');
      }
    }
    const resume = new EndsAtRenaming();
    const bytes = patternBytes(300_000, 38);
    await attemptFailure(module, destination({ filename: 'unrenamed/file.bin' }), sourceOf(bytes), { resume });
    const written = writes.bytesTo((path) => path === resume.state?.temporaryPath);
    resume.ending = false;

    // Act
    const result = await attemptUpload(module, destination({ filename: 'unrenamed/file.bin' }), sourceOf(bytes), { resume });

    // Assess
    expect(written).toBe(bytes.length);
    expect(sha256(await onDisk('unrenamed/file.bin'))).toBe(sha256(bytes));
    expect(await temporaryFilesIn('unrenamed')).toEqual([]);
    expect(result.details).toMatchObject({ resumed_at: bytes.length });
  });

  describe('failures', () => {
    it('fails transiently when the connection drops while the source pauses, with no write awaiting its answer', async () => {
      // Prepare: a source whose bytes the test hands out.
      const relay = await cuttableRelay();
      const bytes = patternBytes(2 * MiB, 39);
      const body = new PassThrough();
      const source = new SourceReader(
        { stream: body, startsAt: 0, size: bytes.length, contentType: undefined, name: 'paused.bin', version: '"paused"' },
        { reopen: async () => Promise.reject(new Error('not read again')) },
      );
      const failure = attemptFailure(module, destination({ filename: 'paused/file.bin', port: relay.port }), source);
      body.write(bytes.subarray(0, MiB));
      await waitFor(async () => ((await temporaryFilesIn('paused').catch(() => []))[0] ? true : undefined), 5_000, 'the temporary file');
      const [temporary] = await temporaryFilesIn('paused');
      await waitFor(async () => ((await stat(join(server.root, 'paused', temporary!))).size === MiB ? true : undefined), 5_000, 'the first half written');

      // Act: the connection drops while every write sent has been answered; then the source goes on.
      relay.cut();
      await delay(200);
      body.end(bytes.subarray(MiB));
      const outcome = await Promise.race([failure, delay(5_000).then(() => 'still running after 5 s')]);

      // Assess
      expect(outcome).toBeInstanceOf(TransientError);
    });

    it('fails transiently when the connection drops between the last write and the rename', async () => {
      // Prepare: the connection is cut once the upload notes that it renames.
      const relay = await cuttableRelay();
      class CutAtRenaming extends MemoryResume<SftpResumeState> {
        public override async save(state: SftpResumeState): Promise<void> {
          await super.save(state);
          if (!state.renaming) return;
          relay.cut();
          await delay(200);
        }
      }

      // Act
      const failure = attemptFailure(module, destination({ filename: 'cut-at-rename/file.bin', port: relay.port }), sourceOf(patternBytes(1000, 40)), { resume: new CutAtRenaming() });
      const outcome = await Promise.race([failure, delay(5_000).then(() => 'still running after 5 s')]);

      // Assess
      expect(outcome).toBeInstanceOf(TransientError);
    });

    it('fails permanently when the server shows another host key, writing nothing', async () => {
      const pinned = 'SHA256:' + 'A'.repeat(43);

      const error = await attemptFailure(module, destination({ filename: 'mismatch.bin', host_key: pinned }), sourceOf(patternBytes(10)));

      expect(error).toBeInstanceOf(PermanentError);
      expect(error.code).toBe('HostKeyMismatch');
      expect(error.message).toContain(`set host_key to ${server.hostKeyFingerprint}`);
      await expect(onDisk('mismatch.bin')).rejects.toThrow();
    });

    it('fails permanently when the password is wrong, without echoing it', async () => {
      const error = await attemptFailure(module, destination({ filename: 'login.bin', password: 'wrong-password-123' }), sourceOf(patternBytes(10)));

      expect(error).toBeInstanceOf(PermanentError);
      expect(error.code).toBe('AuthenticationFailed');
      expect(error.message).toContain('check user and password');
      expect(error.message).not.toContain('wrong-password-123');
    });

    it('fails permanently when the key is not authorized on the server', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'pkcs1', format: 'pem' } });

      const error = await attemptFailure(module, destination({ filename: 'login.bin', password: undefined, private_key: privateKey }), sourceOf(patternBytes(10)));

      expect(error).toBeInstanceOf(PermanentError);
      expect(error.code).toBe('AuthenticationFailed');
    });

    it('fails permanently when the passphrase does not open the key', async () => {
      const error = await attemptFailure(
        module,
        destination({ filename: 'login.bin', password: undefined, private_key: server.encryptedPrivateKey, passphrase: 'not the passphrase' }),
        sourceOf(patternBytes(10)),
      );

      expect(error).toBeInstanceOf(PermanentError);
      expect(error.code).toBe('InvalidPrivateKey');
      expect(error.message).toContain('check passphrase');
      expect(error.message).not.toContain('not the passphrase');
    });

    it('fails permanently when the user may not write to the folder', async () => {
      const error = await attemptFailure(module, destination({ filename: '/etc/ud-sftp-denied.bin' }), sourceOf(patternBytes(10)));

      expect(error).toBeInstanceOf(PermanentError);
      expect(error.code).toBe('PermissionDenied');
      expect(error.message).toContain("'/etc/.ud-sftp-denied.bin.");
    });

    it('fails permanently when a folder of the path cannot be created', async () => {
      await writeFile(join(server.root, 'a-file'), 'not a folder');

      const error = await attemptFailure(module, destination({ filename: 'a-file/sub/clip.bin' }), sourceOf(patternBytes(10)));

      expect(error).toBeInstanceOf(PermanentError);
      expect(error.code).toBe('NoSuchPath');
      expect(error.message).toContain("mkdir 'a-file'");
    });

    it('fails transiently when the server resets the connection', async () => {
      const port = await tcpServer((socket) => socket.resetAndDestroy());

      const error = await attemptFailure(module, destination({ filename: 'reset.bin', port }), sourceOf(patternBytes(10)));

      expect(error).toBeInstanceOf(TransientError);
    });

    it('fails transiently when the server never answers the handshake', async () => {
      const port = await tcpServer(() => undefined);
      const uploader = sftpUploaderWith({ ...defaultSftpSettings, connection: { ...defaultConnectionSettings, handshakeTimeoutMs: 300 } });

      const error = await attemptFailure({ definition: sftpDestination, uploader }, destination({ filename: 'silent.bin', port }), sourceOf(patternBytes(10)));

      expect(error).toBeInstanceOf(TransientError);
      expect(error.code).toBe('Timeout');
    });

    it('fails permanently, connecting nowhere, when the network guard refuses the host', async () => {
      const guarded = outboundNetwork({ allowPrivateNetworks: false });

      const error = await attemptFailure(module, destination({ filename: 'guarded.bin' }), sourceOf(patternBytes(10)), { network: guarded });

      expect(error).toBeInstanceOf(PermanentError);
      expect(error.code).toBe('EADDRNOTALLOWED');
    });
  });
});
