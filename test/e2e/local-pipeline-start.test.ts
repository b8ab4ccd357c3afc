import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline } from '../../infra/local/pipeline.ts';
import { createTemporaryFolder, type TemporaryFolder } from '../support/servers/temporary-folder.ts';

/** Listens on `port` (0: any free one) on loopback. */
async function listen(port = 0): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

const portOf = (server: Server): number => (server.address() as { port: number }).port;
const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = await listen();
  const port = portOf(server);
  await closeServer(server);
  return port;
}

let folder: TemporaryFolder;

beforeAll(async () => {
  folder = await createTemporaryFolder('pipeline-start');
});

afterAll(async () => {
  await folder.remove();
});

describe('startLocalPipeline', () => {
  it('stops the servers it started when another one fails to start, leaving their ports free', async () => {
    // Prepare
    const taken = await listen();
    const ports = { s3: await freePort(), dynamodb: await freePort(), sqs: portOf(taken) };

    // Act
    const starting = startLocalPipeline({ stateDirectory: folder.path, ports, onLog: () => undefined });

    // Assess
    await expect(starting).rejects.toThrow(/EADDRINUSE/);
    await closeServer(taken);
    const reopened = await Promise.all([listen(ports.s3), listen(ports.dynamodb)]);
    await Promise.all(reopened.map(closeServer));
  });
});
