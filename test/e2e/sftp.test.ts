import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { secretNames } from '../../shared/config.ts';
import { startTestServer, type TestServer } from '../support/http-servers.ts';
import { startSftpServer, type TestSftpServer } from '../support/servers/sftp.ts';
import { patternBytes, sha256 } from '../support/sources.ts';

const sourceBytes = patternBytes(2 * 1024 * 1024 + 11, 41);
let pipeline: LocalPipeline;
let state: string;
let sources: TestServer;
let sftp: TestSftpServer;

async function post(body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${pipeline.apiUrl}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ud-sftp-pipeline-'));
  [pipeline, sftp, sources] = await Promise.all([
    startLocalPipeline({ stateDirectory: state, maxAttempts: 2, retryBaseSeconds: 1 }),
    startSftpServer(),
    startTestServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(sourceBytes.length) }).end(sourceBytes);
    }),
  ]);
  // A stored secret, as `credentials` names it: the file-backed store is read at every delivery.
  await pipeline.storeSecrets({ [secretNames.credentials('local-sftp')]: { password: sftp.password } });
});

afterAll(async () => {
  await Promise.all([sources?.close(), sftp?.close(), pipeline?.close()]);
  await rm(state, { recursive: true, force: true });
});

describe('SFTP through the local pipeline', () => {
  it("delivers the seeds' FTP-style example, adapted to the local sshd, and answers its sftp:// URL", async () => {
    // Prepare: the seeds' example (host, filename, user, password), on this machine's server.
    const filename = `${sftp.root}/videos/welcome.mp4`;

    // Act
    const answer = await post({
      source: { url: `${sources.url}/render.mp4` },
      upload: {
        extension: 'mp4',
        async: false,
        destination: { type: 'sftp', host: sftp.host, port: sftp.port, filename, user: sftp.user, password: sftp.password },
      },
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.upload).toBe(`sftp://127.0.0.1:${sftp.port}${filename}`);
    expect(answer.body.destinations[0]).toMatchObject({
      state: 'succeeded',
      bytes: sourceBytes.length,
      details: { host_key: sftp.hostKeyFingerprint, rename: 'posix-rename' },
      notes: [expect.stringContaining(`"host_key": "${sftp.hostKeyFingerprint}"`)],
    });
    expect(sha256(await readFile(filename))).toBe(sha256(sourceBytes));
  });

  it('delivers with the password from a stored secret and a pinned host key', async () => {
    const answer = await post({
      source: { url: `${sources.url}/render.mp4` },
      upload: {
        async: false,
        destination: { type: 'sftp', host: sftp.host, port: sftp.port, filename: 'stored/', user: sftp.user, credentials: 'local-sftp', host_key: sftp.hostKeyFingerprint },
      },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.destinations[0]).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(answer.body.destinations[0].notes).toBeUndefined();
    expect(sha256(await readFile(join(sftp.root, 'stored', 'render.mp4')))).toBe(sha256(sourceBytes));
  });

  it('fails the delivery at once, saying what to change, when the host key does not match', async () => {
    const answer = await post({
      source: { url: `${sources.url}/render.mp4` },
      upload: {
        async: false,
        destination: { type: 'sftp', host: sftp.host, port: sftp.port, filename: 'mismatch.mp4', user: sftp.user, password: sftp.password, host_key: `SHA256:${'B'.repeat(43)}` },
      },
    });

    expect(answer.status).toBe(502);
    expect(answer.body.destinations[0]).toMatchObject({ state: 'failed', attempts: 1, error: { code: 'HostKeyMismatch' } });
  });

  it('answers 400 naming the field for a path that climbs out or carries a control character', async () => {
    const destination = { type: 'sftp', host: sftp.host, port: sftp.port, user: sftp.user, password: sftp.password };

    const [climbing, control] = await Promise.all([
      post({ source: { url: `${sources.url}/a.mp4` }, upload: { destination: { ...destination, filename: '/videos/../../etc/passwd' } } }),
      post({ source: { url: `${sources.url}/a.mp4` }, upload: { destination: { ...destination, filename: '/videos/a\rb.mp4' } } }),
    ]);

    expect(climbing.status).toBe(400);
    expect(climbing.body.errors).toEqual([{ path: 'upload.destination.filename', message: expect.stringContaining("'..'") }]);
    expect(control.status).toBe(400);
    expect(control.body.errors).toEqual([{ path: 'upload.destination.filename', message: 'must not contain control characters' }]);
  });
});
