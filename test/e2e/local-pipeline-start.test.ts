import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline } from '../../infra/local/pipeline.ts';
import { acceptsConnections, findFreePort } from '../support/servers/loopback.ts';
import { createTemporaryFolder, type TemporaryFolder } from '../support/servers/temporary-folder.ts';

let folder: TemporaryFolder;

beforeAll(async () => {
  folder = await createTemporaryFolder('pipeline-start');
});

afterAll(async () => {
  await folder.remove();
});

describe('startLocalPipeline', () => {
  it('stops the servers it started when another one fails to start', async () => {
    // Prepare
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const ports = { s3: await findFreePort(), dynamodb: await findFreePort(), sqs: (taken.address() as AddressInfo).port };

    // Act
    const starting = startLocalPipeline({ stateDirectory: folder.path, ports, onLog: () => undefined });

    // Assess
    await expect(starting).rejects.toThrow(/EADDRINUSE/).finally(() => taken.close());
    expect(await acceptsConnections(ports.s3)).toBe(false);
    expect(await acceptsConnections(ports.dynamodb)).toBe(false);
  });
});
