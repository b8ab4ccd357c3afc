import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sftpDestination, sftpDestinationSchema } from '../../functions/destinations/sftp/schema.ts';
import { sftpUploader, type SftpResumeState } from '../../functions/destinations/sftp/upload.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { startTcpFaultProxy, type TcpFaultProxy } from '../support/fault-proxy/tcp-fault-proxy.ts';
import { startSftpServer, type TestSftpServer } from '../support/servers/sftp.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';

const module = { definition: sftpDestination, uploader: sftpUploader };
let server: TestSftpServer;
let proxy: TcpFaultProxy;

beforeAll(async () => {
  server = await startSftpServer();
  proxy = await startTcpFaultProxy(server.port);
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

function destination(filename: string) {
  return sftpDestinationSchema.parse({
    type: 'sftp',
    host: proxy.host,
    port: proxy.port,
    user: server.user,
    password: server.password,
    host_key: server.hostKeyFingerprint,
    filename,
  });
}

/** A resume slot that silences the server once the upload says it is renaming: the rename happens, its answer never comes. */
class SilencedAtRename extends MemoryResume<SftpResumeState> {
  public override async save(state: SftpResumeState): Promise<void> {
    await super.save(state);
    if (state.renaming) proxy.silenceServer();
  }
}

describe('SFTP destination, an answer lost after the server did the work', () => {
  it('lets the next attempt find the file an attempt cut off had renamed into place, instead of sending it again', async () => {
    // Prepare: the first attempt's rename reaches sshd, but its answer does not reach the client.
    const bytes = patternBytes(3 * 1024 * 1024 + 11, 81);
    const resume = new SilencedAtRename();
    const deadline = new AbortController();
    const finalPath = join(server.root, 'renamed.bin');
    const watcher = setInterval(() => {
      void readFile(finalPath).then(
        (stored) => {
          if (stored.length === bytes.length) deadline.abort(new Error('the function timed out'));
        },
        () => undefined,
      );
    }, 50);
    await attemptFailure(module, destination('renamed.bin'), sourceOf(bytes), { resume, signal: deadline.signal }).finally(() => clearInterval(watcher));
    const sentBefore = proxy.connections.reduce((sum, connection) => sum + connection.bytesUp, 0);
    const fresh = await startTcpFaultProxy(server.port);
    const next = new MemoryResume<SftpResumeState>();
    next.state = resume.state;

    // Act: the next attempt, through a proxy that lets answers through.
    const delivered = await attemptUpload(module, { ...destination('renamed.bin'), port: fresh.port }, sourceOf(bytes), { resume: next });

    // Assess
    expect(delivered).toMatchObject({ bytes: bytes.length, details: { resumed_at: bytes.length } });
    expect(fresh.connections.reduce((sum, connection) => sum + connection.bytesUp, 0)).toBeLessThan(64 * 1024);
    expect(sentBefore).toBeGreaterThan(bytes.length);
    expect(sha256(await readFile(finalPath))).toBe(sha256(bytes));
    await fresh.close();
  });
});
