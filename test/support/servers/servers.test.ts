import { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { Client as FtpClient } from 'basic-ftp';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import type { Socket } from 'node:net';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import { Client as SshClient, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createContainerSas, startAzurite, type TestAzurite } from './azurite.ts';
import { startFtpServer, type FtpSecurity, type TestFtpServer } from './ftp.ts';
import { acceptsConnections } from './loopback.ts';
import { isProcessRunning } from './server-process.ts';
import { startSftpServer, type TestSftpServer } from './sftp.ts';

const content = Buffer.from('a delivered file\n'.repeat(1000));

describe('startAzurite', () => {
  let azurite: TestAzurite;
  let service: BlobServiceClient;

  beforeAll(async () => {
    azurite = await startAzurite();
    service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    await service.createContainer('deliveries');
  });

  afterAll(async () => {
    await azurite?.close();
  });

  it('stores a blob uploaded with @azure/storage-blob and serves it back', async () => {
    // Prepare
    const blob = service.getContainerClient('deliveries').getBlockBlobClient('renders/clip.mp4');

    // Act
    await blob.uploadData(content, { blobHTTPHeaders: { blobContentType: 'video/mp4' } });

    // Assess
    expect(azurite.blobEndpoint).toBe(`http://127.0.0.1:${azurite.port}/devstoreaccount1`);
    expect(await blob.downloadToBuffer()).toEqual(content);
    expect((await blob.getProperties()).contentType).toBe('video/mp4');
  });

  it('accepts an upload signed with a container SAS', async () => {
    // Prepare
    const sas = createContainerSas(azurite, 'deliveries', { permissions: 'cw' });

    // Act
    await new ContainerClient(sas.url).getBlockBlobClient('through-sas.bin').uploadData(content);

    // Assess
    expect(sas.url).toBe(`${azurite.blobEndpoint}/deliveries?${sas.token}`);
    expect(await service.getContainerClient('deliveries').getBlockBlobClient('through-sas.bin').downloadToBuffer()).toEqual(content);
  });

  it('refuses an upload whose SAS grants reading only', async () => {
    const sas = createContainerSas(azurite, 'deliveries', { permissions: 'r' });

    const upload = new ContainerClient(sas.url).getBlockBlobClient('refused.bin').uploadData(content);

    await expect(upload).rejects.toMatchObject({ statusCode: 403 });
  });

  it('stops: the port is freed and the process gone', async () => {
    const other = await startAzurite();

    await other.close();

    expect(await acceptsConnections(other.port)).toBe(false);
    expect(isProcessRunning(other.pid)).toBe(false);
  });
});

/** Accepts the server's certificate only when it is the one with this fingerprint. */
function pinnedTo(fingerprint256: string) {
  return (_host: string, certificate: PeerCertificate): Error | undefined =>
    certificate.fingerprint256 === fingerprint256 ? undefined : new Error(`certificate ${certificate.fingerprint256} is not the pinned ${fingerprint256}`);
}

async function connectFtp(server: TestFtpServer, fingerprint256 = server.fingerprint256): Promise<FtpClient> {
  const client = new FtpClient(10_000);
  try {
    await client.access({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      secure: server.secure === 'explicit' ? true : server.secure,
      // The certificate is trusted as its own CA only, and pinned: verification stays on.
      secureOptions: server.secure ? { ca: [server.certificatePem!], checkServerIdentity: pinnedTo(fingerprint256!) } : undefined,
    });
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

function tlsProtocolOf(socket: Socket): string | undefined {
  return socket instanceof TLSSocket ? (socket.getProtocol() ?? undefined) : undefined;
}

interface DataConnection {
  readonly address: string | undefined;
  readonly protocol: string | undefined;
}

/** Uploads `content` as `name`, noting the peer address and TLS protocol of the data connection it used. */
async function uploadNotingDataConnection(client: FtpClient, name: string): Promise<DataConnection | undefined> {
  let dataConnection: DataConnection | undefined;
  // basic-ftp reports progress last while the data socket is still set.
  client.trackProgress(() => {
    const socket = client.ftp.dataSocket;
    if (socket) dataConnection = { address: socket.remoteAddress, protocol: tlsProtocolOf(socket) };
  });
  await client.uploadFrom(Readable.from([content]), name);
  client.trackProgress();
  return dataConnection;
}

describe.each<{ secure: FtpSecurity; expectedProtocol: string | undefined }>([
  { secure: false, expectedProtocol: undefined },
  { secure: 'explicit', expectedProtocol: 'TLSv1.3' },
  { secure: 'implicit', expectedProtocol: 'TLSv1.3' },
])('startFtpServer({ secure: $secure })', ({ secure, expectedProtocol }) => {
  let server: TestFtpServer;

  beforeAll(async () => {
    server = await startFtpServer({ secure });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('keeps a file uploaded with basic-ftp in the user’s root folder', async () => {
    // Prepare
    const client = await connectFtp(server);

    // Act
    await client.ensureDir('renders');
    await client.uploadFrom(Readable.from([content]), 'clip.mp4');
    client.close();

    // Assess
    expect(await readFile(join(server.root, 'renders', 'clip.mp4'))).toEqual(content);
    expect(server.host).toBe('127.0.0.1');
  });

  it('encrypts the control and data connections exactly when secure', async () => {
    const client = await connectFtp(server);

    const dataConnection = await uploadNotingDataConnection(client, 'encrypted.bin');
    const controlProtocol = tlsProtocolOf(client.ftp.socket);
    client.close();

    expect(controlProtocol).toBe(expectedProtocol);
    expect(dataConnection?.protocol).toBe(expectedProtocol);
  });

  it('takes passive data connections on 127.0.0.1 and announces that address', async () => {
    const client = await connectFtp(server);

    const dataConnection = await uploadNotingDataConnection(client, 'passive.bin');
    const reply = await client.send('PASV');
    client.close();

    expect(dataConnection?.address).toBe('127.0.0.1');
    // 227 … (h1,h2,h3,h4,p1,p2)
    expect(reply.message).toMatch(/\(127,0,0,1,\d+,\d+\)/);
  });

  it('refuses a wrong password', async () => {
    const login = connectFtp({ ...server, password: 'not-the-password' });

    await expect(login).rejects.toThrow(/530/);
  });

  it('stops: the port is freed', async () => {
    const other = await startFtpServer({ secure });

    await other.close();

    expect(await acceptsConnections(other.port)).toBe(false);
  });
});

describe.each<{ secure: FtpSecurity }>([{ secure: 'explicit' }, { secure: 'implicit' }])('startFtpServer({ secure: $secure }) with a pinned certificate', ({ secure }) => {
  it('is refused when its certificate is not the pinned one', async () => {
    const server = await startFtpServer({ secure });
    onTestFinished(() => server.close());

    const login = connectFtp(server, '00:'.repeat(31) + '00');

    await expect(login).rejects.toThrow(/is not the pinned/);
  });
});

describe('startFtpServer({ secure: explicit })', () => {
  it('has TLS read a ClientHello sent the moment 234 arrives, from a client in another thread', async () => {
    const server = await startFtpServer({ secure: 'explicit' });
    onTestFinished(() => server.close());

    // A worker thread, as the local runtime's functions are: its handshake can reach the server
    // between the 234 going out and the wrap (43 of 300 did with ftp-srv's own AUTH handler).
    const worker = new Worker(authTlsClient, { eval: true, workerData: { port: server.port, rounds: 150 } });
    const failures = await new Promise<string[]>((resolve, reject) => worker.once('message', resolve).once('error', reject));

    expect(failures).toEqual([]);
  });
});

/** Connects `rounds` times: reads the greeting, sends AUTH TLS, starts TLS on the 234; posts each failure. */
const authTlsClient = `
const { connect } = require('node:net');
const tls = require('node:tls');
const { workerData, parentPort } = require('node:worker_threads');
function handshake() {
  return new Promise((resolve) => {
    const socket = connect(workerData.port, '127.0.0.1');
    let answers = '';
    let asked = false;
    const onData = (chunk) => {
      answers += chunk;
      if (answers.includes('220 ') && !asked) { asked = true; socket.write('AUTH TLS\\r\\n'); }
      if (!answers.includes('234 ')) return;
      socket.off('data', onData);
      const secure = tls.connect({ socket, rejectUnauthorized: false });
      secure.once('secureConnect', () => { secure.destroy(); resolve(undefined); });
      secure.once('error', (error) => { socket.destroy(); resolve(error.code ?? error.message); });
    };
    socket.on('data', onData);
    socket.once('error', (error) => resolve(error.code ?? error.message));
  });
}
(async () => {
  const failures = [];
  for (let round = 0; round < workerData.rounds; round += 1) {
    const failure = await handshake();
    if (failure) failures.push(failure);
  }
  parentPort.postMessage(failures);
})();
`;

/** The host key's fingerprint in `ssh-keygen -l` form: `SHA256:` and unpadded base64. */
function fingerprintOf(hostKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
}

interface SftpSession {
  readonly ssh: SshClient;
  readonly sftp: SFTPWrapper;
  readonly hostKeyFingerprint: string;
}

async function connectSftp(server: TestSftpServer, credentials: Partial<ConnectConfig>): Promise<SftpSession> {
  const ssh = new SshClient();
  let hostKeyFingerprint = '';
  await new Promise<void>((resolve, reject) => {
    ssh.once('ready', resolve).once('error', reject);
    ssh.connect({
      host: server.host,
      port: server.port,
      username: server.user,
      readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => {
        hostKeyFingerprint = fingerprintOf(key);
        return hostKeyFingerprint === server.hostKeyFingerprint;
      },
      ...credentials,
    });
  });
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => ssh.sftp((error, session) => (error ? reject(error) : resolve(session))));
  return { ssh, sftp, hostKeyFingerprint };
}

describe('startSftpServer', () => {
  let server: TestSftpServer;

  beforeAll(async () => {
    server = await startSftpServer();
  });

  afterAll(async () => {
    await server?.close();
  });

  it.each<{ login: string; credentials: (server: TestSftpServer) => Partial<ConnectConfig> }>([
    { login: 'password', credentials: ({ password }) => ({ password }) },
    { login: 'private key', credentials: ({ privateKey }) => ({ privateKey }) },
    { login: 'passphrase-protected key', credentials: ({ encryptedPrivateKey, passphrase }) => ({ privateKey: encryptedPrivateKey, passphrase }) },
  ])('keeps a file streamed over SFTP by a client that logs in with the $login', async ({ login, credentials }) => {
    // Prepare
    const { ssh, sftp, hostKeyFingerprint } = await connectSftp(server, credentials(server));
    const name = `${login.replaceAll(' ', '-')}.bin`;

    // Act
    await pipeline(Readable.from([content]), sftp.createWriteStream(name));
    ssh.end();

    // Assess
    expect(await readFile(join(server.root, name))).toEqual(content);
    expect(hostKeyFingerprint).toBe(server.hostKeyFingerprint);
  });

  it('returns the host key fingerprint in ssh-keygen’s SHA256: form', () => {
    expect(server.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('refuses a wrong password', async () => {
    const login = connectSftp(server, { password: 'not-the-password' });

    await expect(login).rejects.toThrow(/authentication methods failed/);
  });

  it('refuses a wrong passphrase for the encrypted key', async () => {
    const login = connectSftp(server, { privateKey: server.encryptedPrivateKey, passphrase: 'not-the-passphrase' });

    await expect(login).rejects.toThrow(/passphrase|decrypt/i);
  });

  it('stops: sshd is gone, so its port is free', async () => {
    const other = await startSftpServer();

    await other.close();

    // Another suite's server may take the freed port at once, so the process is what is checked.
    expect(isProcessRunning(other.pid)).toBe(false);
  });
});
