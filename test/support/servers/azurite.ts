import { ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { createRequire } from 'node:module';
import { startServerProcess } from './server-process.ts';

/** Azurite's Blob service on 127.0.0.1, with the emulator's well-known account. */
export interface TestAzurite {
  /** `http://127.0.0.1:PORT/devstoreaccount1` */
  readonly blobEndpoint: string;
  readonly account: string;
  readonly accountKey: string;
  /** A storage connection string for the account, with `BlobEndpoint` set to this server. */
  readonly connectionString: string;
  readonly port: number;
  /** The Azurite process's ID. */
  readonly pid: number;
  close(): Promise<void>;
}

// The emulator's development account; its key is published in Azurite's documentation.
const account = 'devstoreaccount1';
const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * Starts Azurite's Blob service in a child process on a port the kernel picks, keeping blobs in
 * memory only.
 *
 * @example
 * const azurite = await startAzurite();
 * const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
 * // …
 * await azurite.close();
 */
export async function startAzurite(): Promise<TestAzurite> {
  const main = createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js');
  const args = ['--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--skipApiVersionCheck', '--disableTelemetry', '--silent'];
  // The Node running the tests (22, from the devDependency): Azurite needs Node 22 or later.
  const server = startServerProcess('Azurite', process.execPath, [main, ...args]);
  const [, listeningPort] = await server.outputMatching(/successfully listens on http:\/\/127\.0\.0\.1:(\d+)/).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  const port = Number(listeningPort);
  const blobEndpoint = `http://127.0.0.1:${port}/${account}`;
  return {
    blobEndpoint,
    account,
    accountKey,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${accountKey};BlobEndpoint=${blobEndpoint};`,
    port,
    pid: server.pid,
    close: () => server.stop(),
  };
}

export interface ContainerSasOptions {
  /** Letters of `ContainerSASPermissions`. @default 'racwdl' (everything a delivery needs) */
  readonly permissions?: string;
  /** @default one hour */
  readonly validForMinutes?: number;
}

/** A shared access signature for one container of `azurite`'s account. */
export interface ContainerSas {
  /** The query string, without `?`. */
  readonly token: string;
  /** `<blobEndpoint>/<container>?<token>`: the container SAS URL clients such as rclone take. */
  readonly url: string;
}

/**
 * Signs a container SAS with the account key, as a customer would hand one out instead of the key.
 *
 * @example
 * const { url } = createContainerSas(azurite, 'deliveries', { permissions: 'cw' });
 * const container = new ContainerClient(url);
 */
export function createContainerSas(azurite: TestAzurite, container: string, options: ContainerSasOptions = {}): ContainerSas {
  const token = generateBlobSASQueryParameters(
    {
      containerName: container,
      permissions: ContainerSASPermissions.parse(options.permissions ?? 'racwdl'),
      expiresOn: new Date(Date.now() + (options.validForMinutes ?? 60) * 60_000),
    },
    new StorageSharedKeyCredential(azurite.account, azurite.accountKey),
  ).toString();
  return { token, url: `${azurite.blobEndpoint}/${container}?${token}` };
}
