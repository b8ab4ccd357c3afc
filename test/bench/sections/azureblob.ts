import { BlobServiceClient, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { startServerProcess } from '../../support/servers/server-process.ts';
import { bundle } from '../clients/build.ts';
import { patternCrc32, writePatternFile } from '../input/pattern.ts';
import { runMeasured } from '../measure/child.ts';
import { verifiedRunIsTimed } from '../measure/rounds.ts';
import { GiB, median, MiB, sizeLabel } from '../measure/stats.ts';
import { markdownTable } from '../report/table.ts';
import { UploadClock } from '../servers/upload-clock.ts';

/**
 * The Azure Blob destination beside what people would use instead, into Azurite on loopback:
 * rclone's `azureblob` backend (through a container SAS URL: its `endpoint` option is a domain
 * suffix that cannot name Azurite) and `@azure/storage-blob`'s `uploadStream` with its defaults.
 * Each client runs as its own process measured by wait4 (CPU and peak RSS); MiB/s is timed at a
 * front that Azurite sits behind, from the first write request to the last answer; every blob is
 * read back and its CRC-32 compared with the source's before the timed runs.
 */

export const azureBlobClients = ['ours', 'sdk', 'rclone'] as const;
export type AzureBlobClient = (typeof azureBlobClients)[number];

const labels: Record<AzureBlobClient, string> = {
  ours: 'ours (azureblob destination)',
  sdk: '@azure/storage-blob uploadStream defaults',
  rclone: 'rclone copyto (azureblob backend)',
};

/** What the front saw of one blob's upload: its blocks and the checksums sent with them. */
interface UploadShape {
  blocks: number;
  largestBlock: number;
  readonly integrity: Set<string>;
}

export interface AzureBlobRun {
  readonly transferSeconds: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMiB: number;
}

export interface AzureBlobClientResult {
  readonly client: AzureBlobClient;
  readonly label: string;
  status: 'measured' | 'failed';
  reason?: string;
  readonly runs: AzureBlobRun[];
  shape?: { readonly blocks: number; readonly largestBlock: number; readonly maxInFlight: number; readonly integrity: readonly string[] };
  summary?: {
    readonly mibPerSecond: number | undefined;
    readonly cpuSecondsPerGiB: number | undefined;
    /** Less the client's start-up CPU (the median of 1 KiB uploads). */
    readonly netCpuSecondsPerGiB: number | undefined;
    readonly maxRssMiB: number | undefined;
  };
}

export interface AzureBlobBenchResult {
  readonly description: string;
  /** Median CPU seconds of a 1 KiB upload per client: its start-up cost. */
  readonly startupCpuSeconds: Partial<Record<AzureBlobClient, number>>;
  readonly sizes: { readonly size: number; readonly label: string; readonly clients: AzureBlobClientResult[] }[];
}

export interface AzureBlobBenchContext {
  readonly scratch: string;
  /** Where rclone's input files go (tmpfs when there is one). */
  readonly inputDirectory: string;
  readonly runs: number;
  /** Debian's rclone, when it is there. */
  readonly rclone: string | undefined;
  readonly log: (line: string) => void;
}

// The emulator's development account; its key is published in Azurite's documentation.
const account = 'devstoreaccount1';
const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const container = 'bench';

interface BenchAzurite {
  /** The front's Blob service URL. */
  readonly endpoint: string;
  readonly clock: UploadClock;
  readonly shapes: Map<string, UploadShape>;
  readonly service: BlobServiceClient;
  close(): Promise<void>;
}

function integrityOf(request: IncomingMessage): string[] {
  const comp = new URL(request.url ?? '/', 'http://front').searchParams.get('comp');
  const what = comp === 'block' ? 'block' : comp === 'blocklist' ? 'list' : 'blob';
  return [
    ...(request.headers['content-md5'] ? [`md5(${what})`] : []),
    ...(request.headers['x-ms-content-crc64'] ? [`crc64(${what})`] : []),
    ...(request.headers['x-ms-blob-content-md5'] ? ['md5(property)'] : []),
  ];
}

/** Azurite keeping blobs on disk, behind a front that times uploads and notes each blob's blocks. */
async function startBenchAzurite(directory: string): Promise<BenchAzurite> {
  const main = createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js');
  await mkdir(directory, { recursive: true });
  const args = ['--blobHost', '127.0.0.1', '--blobPort', '0', '--location', directory, '--skipApiVersionCheck', '--disableTelemetry', '--silent'];
  const azurite = startServerProcess('Azurite', process.execPath, [main, ...args]);
  const [, port] = await azurite.outputMatching(/successfully listens on http:\/\/127\.0\.0\.1:(\d+)/);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const clock = new UploadClock();
  const shapes = new Map<string, UploadShape>();
  const front = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 0 },
    clock.wrap((incoming, outgoing) => {
      const path = decodeURIComponent(new URL(incoming.url ?? '/', 'http://front').pathname);
      if (incoming.method === 'PUT') {
        const shape = shapes.get(path) ?? { blocks: 0, largestBlock: 0, integrity: new Set<string>() };
        shapes.set(path, shape);
        if (new URL(incoming.url ?? '/', 'http://front').searchParams.get('comp') === 'block') {
          shape.blocks += 1;
          shape.largestBlock = Math.max(shape.largestBlock, Number(incoming.headers['content-length'] ?? 0));
        }
        for (const item of integrityOf(incoming)) shape.integrity.add(item);
      }
      const upstream = httpRequest({ host: '127.0.0.1', port: Number(port), method: incoming.method, path: incoming.url, headers: incoming.headers, agent }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      upstream.once('error', () => outgoing.destroy());
      incoming.pipe(upstream);
    }),
  );
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const directEndpoint = `http://127.0.0.1:${port}/${account}`;
  const service = BlobServiceClient.fromConnectionString(`DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${accountKey};BlobEndpoint=${directEndpoint};`);
  await service.createContainer(container);
  return {
    endpoint: `http://127.0.0.1:${(front.address() as AddressInfo).port}/${account}`,
    clock,
    shapes,
    service,
    close: async () => {
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
      agent.destroy();
      await azurite.stop();
    },
  };
}

/** A container SAS URL through the front, as rclone's `sas_url` takes it. */
function containerSasUrl(endpoint: string): string {
  const token = generateBlobSASQueryParameters(
    { containerName: container, permissions: ContainerSASPermissions.parse('racwdl'), expiresOn: new Date(Date.now() + 6 * 3600_000) },
    new StorageSharedKeyCredential(account, accountKey),
  ).toString();
  return `${endpoint}/${container}?${token}`;
}

function invocation(client: AzureBlobClient, workers: Record<'ours' | 'sdk', string>, azurite: BenchAzurite, blob: string, size: number, inputFile: string, context: AzureBlobBenchContext, rcloneConfig: string) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', TMPDIR: process.env.TMPDIR };
  if (client === 'rclone') {
    return {
      command: context.rclone ?? 'rclone',
      args: ['copyto', inputFile, `az:${container}/${blob}`, '--config', rcloneConfig],
      env: { ...env, RCLONE_CONFIG_AZ_TYPE: 'azureblob', RCLONE_CONFIG_AZ_SAS_URL: containerSasUrl(azurite.endpoint) },
    };
  }
  const task = { endpoint: azurite.endpoint, account, accountKey, container, blob, size };
  return { command: process.execPath, args: [workers[client], JSON.stringify(task)], env };
}

/** Reads the blob back and compares its size and CRC-32 with the source's. */
async function checkStored(azurite: BenchAzurite, blob: string, size: number): Promise<void> {
  const download = await azurite.service.getContainerClient(container).getBlockBlobClient(blob).download();
  let bytes = 0;
  let value = 0;
  for await (const chunk of download.readableStreamBody!) {
    bytes += (chunk as Buffer).length;
    value = crc32(chunk as Buffer, value);
  }
  if (bytes !== size || value >>> 0 !== patternCrc32(size)) throw new Error(`the blob read back is not the source (${bytes} of ${size} bytes)`);
}

let sequence = 0;

/** The Azure Blob section: every client into Azurite at every size, one verified run, then `runs` timed rounds (with one, the verified run is it). */
export async function measureAzureBlob(sizes: readonly number[], context: AzureBlobBenchContext): Promise<AzureBlobBenchResult> {
  const built = {
    ours: await bundle(join(import.meta.dirname, '../clients/workers/azureblob-ours.ts'), join(context.scratch, 'azureblob-ours.mjs')),
    sdk: await bundle(join(import.meta.dirname, '../clients/workers/azureblob-sdk.ts'), join(context.scratch, 'azureblob-sdk.mjs')),
  };
  for (const [name, outcome] of Object.entries(built)) if ('error' in outcome) throw new Error(`the ${name} worker did not bundle: ${outcome.error}`);
  const workers = { ours: (built.ours as { file: string }).file, sdk: (built.sdk as { file: string }).file };
  const rcloneConfig = join(context.scratch, 'rclone-azure.conf');
  await writeFile(rcloneConfig, '');
  const azurite = await startBenchAzurite(join(context.scratch, 'azurite'));
  const clients = azureBlobClients.filter((client) => client !== 'rclone' || context.rclone !== undefined);
  const results: AzureBlobBenchResult['sizes'] = [];
  const startupCpuSeconds: Partial<Record<AzureBlobClient, number>> = {};
  /** One upload by one client: the process measured, the front's window read, the blob (checked and) deleted. */
  const once = async (client: AzureBlobClient, size: number, inputFile: string, verify?: AzureBlobClientResult): Promise<AzureBlobRun> => {
    sequence += 1;
    const blob = `${client}-${sequence}.bin`;
    const path = `/${account}/${container}/${blob}`;
    const call = invocation(client, workers, azurite, blob, size, inputFile, context, rcloneConfig);
    try {
      const cost = await runMeasured(call.command, call.args, { env: call.env, scratch: context.scratch });
      const window = azurite.clock.window(path);
      if (!window) throw new Error(`${client} exited 0 but Azurite saw no upload of ${blob}`);
      if (verify) {
        await checkStored(azurite, blob, size);
        const shape = azurite.shapes.get(path);
        verify.shape = { blocks: shape?.blocks ?? 0, largestBlock: shape?.largestBlock ?? 0, maxInFlight: window.maxInFlight, integrity: [...(shape?.integrity ?? [])].sort() };
      }
      return { transferSeconds: (window.endedAt - window.startedAt) / 1000, wallSeconds: cost.wallSeconds, cpuSeconds: cost.userSeconds + cost.systemSeconds, maxRssMiB: cost.maxRssKiB / 1024 };
    } finally {
      azurite.clock.forget(path);
      azurite.shapes.delete(path);
      await azurite.service.getContainerClient(container).getBlockBlobClient(blob).deleteIfExists();
    }
  };
  try {
    for (const size of sizes) {
      const label = sizeLabel(size);
      const inputFile = join(context.inputDirectory, `azure-input-${size}.bin`);
      await writePatternFile(inputFile, size);
      const byClient = new Map(clients.map((client) => [client, { client, label: labels[client], status: 'measured', runs: [] } as AzureBlobClientResult]));
      const verifiedIsTimed = verifiedRunIsTimed(context.runs);
      const timed = (result: AzureBlobClientResult, run: AzureBlobRun, round: number): void => {
        result.runs.push(run);
        context.log(`  azureblob ${label} ${result.client} run ${round + 1}/${context.runs}: ${(size / MiB / run.transferSeconds).toFixed(0)} MiB/s, ${(run.cpuSeconds / (size / GiB)).toFixed(2)} CPU-s/GiB, ${run.maxRssMiB.toFixed(0)} MiB RSS`);
      };
      try {
        for (const client of clients) {
          const result = byClient.get(client)!;
          context.log(`  azureblob ${label} ${client}: verified run`);
          try {
            const run = await once(client, size, inputFile, result);
            if (verifiedIsTimed) timed(result, run, 0);
          } catch (error) {
            Object.assign(result, { status: 'failed', reason: (error as Error).message });
            context.log(`    failed: ${(error as Error).message}`);
          }
        }
        for (let round = verifiedIsTimed ? 1 : 0; round < context.runs; round += 1) {
          const order = clients.map((_, index) => clients[(index + round) % clients.length]!);
          for (const client of order) {
            const result = byClient.get(client)!;
            if (result.status !== 'measured') continue;
            try {
              timed(result, await once(client, size, inputFile), round);
            } catch (error) {
              Object.assign(result, { status: 'failed', reason: (error as Error).message });
            }
          }
        }
      } finally {
        await rm(inputFile, { force: true });
      }
      results.push({ size, label, clients: [...byClient.values()] });
    }
    // Start-up cost: the same client uploading 1 KiB.
    const tinyFile = join(context.inputDirectory, 'azure-input-tiny.bin');
    await writePatternFile(tinyFile, 1024);
    for (const client of clients) {
      const runs: number[] = [];
      for (let round = 0; round < context.runs; round += 1) runs.push((await once(client, 1024, tinyFile)).cpuSeconds);
      const value = median(runs);
      if (value !== undefined) startupCpuSeconds[client] = value;
    }
    await rm(tinyFile, { force: true });
  } finally {
    await azurite.close();
  }
  for (const { size, clients: sizeClients } of results) {
    for (const result of sizeClients) {
      if (result.runs.length === 0) continue;
      const cpu = median(result.runs.map((run) => run.cpuSeconds));
      const startup = startupCpuSeconds[result.client];
      result.summary = {
        mibPerSecond: median(result.runs.map((run) => size / MiB / run.transferSeconds)),
        cpuSecondsPerGiB: cpu === undefined ? undefined : cpu / (size / GiB),
        netCpuSecondsPerGiB: cpu === undefined || startup === undefined ? undefined : Math.max(0, cpu - startup) / (size / GiB),
        maxRssMiB: median(result.runs.map((run) => run.maxRssMiB)),
      };
    }
  }
  return { description: 'Azurite on loopback (blobs on disk), every blob read back and its CRC-32 checked in the verified run', startupCpuSeconds, sizes: results };
}

const fixed = (value: number | undefined, digits: number): string => (value === undefined ? '–' : value.toFixed(digits));

/** The section's table, in the report's Markdown. */
export function renderAzureBlobBench(result: AzureBlobBenchResult): string {
  const rows = result.sizes.flatMap((size) =>
    size.clients.map((client) => {
      if (client.status !== 'measured' || !client.summary) return [size.label, client.label, `${client.status}: ${(client.reason ?? 'no runs').slice(0, 100)}`, '', '', '', '', ''];
      const shape = client.shape;
      const blocks = !shape ? '' : shape.blocks === 0 ? '1 Put Blob' : `${shape.blocks}×${Number((shape.largestBlock / MiB).toFixed(1))} MiB, ${shape.maxInFlight} at once`;
      const { mibPerSecond, cpuSecondsPerGiB, netCpuSecondsPerGiB, maxRssMiB } = client.summary;
      return [size.label, client.label, fixed(mibPerSecond, 0), fixed(cpuSecondsPerGiB, 2), fixed(netCpuSecondsPerGiB, 2), fixed(maxRssMiB, 0), blocks, shape?.integrity.join(' ') || 'none'];
    }),
  );
  const startup = Object.entries(result.startupCpuSeconds).map(([client, value]) => `${client} ${value.toFixed(2)} s`);
  return [
    `## azureblob: ${result.description}`,
    markdownTable(['size', 'client', 'MiB/s', 'CPU-s/GiB', 'net CPU-s/GiB', 'peak RSS MiB', 'blocks', 'integrity sent'], rows),
    `start-up CPU (1 KiB upload): ${startup.join(', ')}`,
  ].join('\n');
}
