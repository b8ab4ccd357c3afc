import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { resourceNames } from '../../infra/resources.ts';
import { secretNames } from '../../shared/config.ts';
import { startFtpServer, type TestFtpServer } from '../support/servers/ftp.ts';
import { patternBytes, sha256 } from '../support/sources.ts';

const sourceBytes = patternBytes(2 * 1024 * 1024 + 11, 41);
const sourceKey = 'renders/welcome.mp4';
let state: string;
let pipeline: LocalPipeline;
let plain: TestFtpServer;
let explicit: TestFtpServer;

async function post(body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

function deliver(destination: Record<string, unknown>) {
  return post({ source: { bucket: resourceNames.stagingBucket, key: sourceKey }, upload: { extension: 'mp4', async: false, destination } });
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ud-ftp-pipeline-'));
  [pipeline, plain, explicit] = await Promise.all([
    startLocalPipeline({ stateDirectory: state, maxAttempts: 2, retryBaseSeconds: 1, stagingSourcePrefixes: ['renders/'] }),
    startFtpServer(),
    startFtpServer({ secure: 'explicit' }),
  ]);
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: pipeline.s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey },
  });
  await s3.send(new PutObjectCommand({ Bucket: resourceNames.stagingBucket, Key: sourceKey, Body: sourceBytes }));
  s3.destroy();
  // The whole local runtime starts here: on a loaded machine that takes longer than one hook's default.
}, 180_000);

afterAll(async () => {
  await pipeline.close();
  await Promise.all([plain.close(), explicit.close()]);
  await rm(state, { recursive: true, force: true });
});

describe('FTP through the local pipeline', () => {
  it("delivers the seeds' FTP example to a local server and answers with its ftp:// URL and a note on passive mode", async () => {
    // Act
    const answer = await deliver({ type: 'ftp', host: `127.0.0.1:${plain.port}`, filename: '/videos/welcome.mp4', user: plain.user, password: plain.password });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      state: 'succeeded',
      upload: `ftp://127.0.0.1:${plain.port}/videos/welcome.mp4`,
      destinations: [
        {
          type: 'ftp',
          state: 'succeeded',
          bytes: sourceBytes.length,
          attempts: 1,
          notes: [expect.stringContaining('delivered in passive mode')],
          details: { path: '/videos/welcome.mp4', command: 'STOR', data_connection: 'PASV' },
        },
      ],
    });
    expect(JSON.stringify(answer.body)).not.toContain(plain.password);
    expect(sha256(await readFile(join(plain.root, 'videos/welcome.mp4')))).toBe(sha256(sourceBytes));
    expect((await readdir(join(plain.root, 'videos'))).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('delivers over explicit FTPS with the login from a stored secret and the certificate pinned', async () => {
    // Prepare
    await pipeline.storeSecrets({ [secretNames.credentials('local-ftps')]: { user: explicit.user, password: explicit.password } });

    // Act
    const answer = await deliver({
      type: 'ftp',
      host: '127.0.0.1',
      port: explicit.port,
      filename: '/renders/',
      secure: 'explicit',
      certificate_fingerprint: explicit.fingerprint256,
      credentials: 'local-ftps',
      passive: true,
      epsv: true,
    });

    // Assess
    expect(answer.body.destinations[0].error ?? null).toBeNull();
    expect(answer.status).toBe(200);
    expect(answer.body.upload).toBe(`ftps://127.0.0.1:${explicit.port}/renders/welcome.mp4`);
    expect(answer.body.destinations[0]).not.toHaveProperty('notes');
    expect(answer.body.destinations[0].details).toMatchObject({ data_connection: 'EPSV' });
    expect(sha256(await readFile(join(explicit.root, 'renders/welcome.mp4')))).toBe(sha256(sourceBytes));
  });

  it('answers 400 for a filename that climbs out or carries control characters, and delivers nothing', async () => {
    const answers = await Promise.all(
      ['/videos/../../etc/passwd', '/videos/a.mp4\r\nDELE /videos/welcome.mp4'].map((filename) =>
        deliver({ type: 'ftp', host: `127.0.0.1:${plain.port}`, filename, user: plain.user, password: plain.password }),
      ),
    );

    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toEqual([{ path: 'upload.destination.filename', message: expect.stringMatching(/\.\.|control characters/) }]);
    }
    expect(plain.bytesWritten('/etc/passwd')).toBe(0);
  });

  it('fails at once, with the reason, when the server refuses the login', async () => {
    const answer = await deliver({ type: 'ftp', host: `127.0.0.1:${plain.port}`, filename: '/refused.mp4', user: plain.user, password: 'not-the-password' });

    expect(answer.status).toBe(502);
    expect(answer.body.destinations[0]).toMatchObject({ state: 'failed', attempts: 1, error: { code: 'LoginFailed', message: expect.stringContaining('530') } });
    expect(JSON.stringify(answer.body)).not.toContain('not-the-password');
  });
});
