import { createReadStream } from 'node:fs';
import { chown, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { startSftpServer, type TestSftpServer } from '../../support/servers/sftp.ts';
import { bundle } from '../clients/build.ts';
import { ensureDebianTool } from '../clients/install.ts';
import { patternCrc32, writePatternFile } from '../input/pattern.ts';
import { runMeasured } from '../measure/child.ts';
import { verifiedRunIsTimed } from '../measure/rounds.ts';
import { GiB, KiB, median, MiB, ratio, sizeLabel } from '../measure/stats.ts';
import { markdownTable } from '../report/table.ts';

export const sftpClients = ['ours', 'openssh-sftp', 'rclone'] as const;
export type SftpClient = (typeof sftpClients)[number];

const labels: Record<SftpClient, string> = {
  ours: 'ours (sftp destination)',
  'openssh-sftp': 'OpenSSH sftp (put)',
  rclone: 'rclone copyto (sftp backend)',
};

interface SftpRun {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMiB: number;
}

export interface SftpClientResult {
  readonly client: SftpClient;
  readonly label: string;
  status: 'measured' | 'skipped' | 'failed';
  reason?: string;
  /** The untimed first run's file was read back from the server's disk and its CRC-32 matched the source's. */
  verified?: boolean;
  readonly runs: SftpRun[];
  summary?: {
    readonly mibPerSecond: number | undefined;
    readonly cpuSecondsPerGiB: number | undefined;
    /** Less the client's start-up CPU (a 1 KiB upload's). */
    readonly netCpuSecondsPerGiB: number | undefined;
    readonly maxRssMiB: number | undefined;
  };
  /** Ours divided by this client: throughput (higher is better for us) and CPU per GiB (lower is better). */
  oursOver?: { readonly throughput: number | undefined; readonly cpu: number | undefined };
}

export interface SftpBenchResult {
  readonly server: string;
  readonly sizes: { readonly size: number; readonly label: string; readonly clients: SftpClientResult[] }[];
  /** Median wall and CPU seconds of a 1 KiB upload per client: start-up, connection and login. */
  readonly startupSeconds: Partial<Record<SftpClient, number>>;
  readonly startupCpuSeconds: Partial<Record<SftpClient, number>>;
}

export interface SftpBenchContext {
  readonly scratch: string;
  /** Where the CLI tools' input files go (tmpfs when there is one). */
  readonly inputDirectory: string;
  /** Where our worker is bundled. */
  readonly buildDirectory: string;
  readonly runs: number;
  readonly log: (line: string) => void;
}

/** How to run each client: a command line for a local file (or, ours, a generated stream) and a remote path. */
type Invocation = (remotePath: string, size: number, inputFile: string) => Promise<{ command: string; args: string[] }>;

async function invocations(server: TestSftpServer, context: SftpBenchContext, unavailable: Map<SftpClient, string>): Promise<Record<SftpClient, Invocation>> {
  const keyFile = join(context.scratch, 'sftp-client-key');
  await writeFile(keyFile, server.privateKey, { mode: 0o600 });
  const ours = await bundle(join(import.meta.dirname, '../clients/workers/sftp-ours.ts'), join(context.buildDirectory, 'sftp-ours.mjs'));
  if ('error' in ours) unavailable.set('ours', `worker did not bundle: ${ours.error}`);
  const rclone = await ensureDebianTool('/usr/bin/rclone', 'rclone', ['version']);
  if (!rclone.available) unavailable.set('rclone', rclone.reason);
  return {
    ours: async (remotePath, size) => ({
      command: process.execPath,
      args: [
        'file' in ours ? ours.file : '',
        JSON.stringify({
          size,
          destination: { type: 'sftp', host: server.host, port: server.port, user: server.user, private_key: server.privateKey, host_key: server.hostKeyFingerprint, filename: remotePath },
        }),
      ],
    }),
    'openssh-sftp': async (remotePath, _size, inputFile) => {
      const batch = join(context.scratch, 'sftp-batch');
      await writeFile(batch, `put ${inputFile} ${remotePath}\n`);
      return {
        command: '/usr/bin/sftp',
        args: ['-q', '-b', batch, '-i', keyFile, '-P', String(server.port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${server.user}@${server.host}`],
      };
    },
    rclone: async (remotePath, _size, inputFile) => ({
      command: '/usr/bin/rclone',
      args: [
        'copyto',
        inputFile,
        `:sftp:${remotePath}`,
        '--config=/dev/null',
        `--sftp-host=${server.host}`,
        `--sftp-port=${server.port}`,
        `--sftp-user=${server.user}`,
        `--sftp-key-file=${keyFile}`,
        // The server runs internal-sftp only: no shell for rclone's remote checksum commands.
        '--sftp-shell-type=none',
        '--sftp-disable-hashcheck',
      ],
    }),
  };
}

async function fileCrc32(path: string): Promise<number> {
  let value = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) value = crc32(chunk as Buffer, value);
  return value >>> 0;
}

let sequence = 0;

/** One upload by one client, measured; the stored file checked for its size (and, `verify`, its CRC-32) and removed. */
async function uploadOnce(server: TestSftpServer, invocation: Invocation, client: SftpClient, size: number, inputFile: string, context: SftpBenchContext, verify: boolean): Promise<SftpRun> {
  sequence += 1;
  const remotePath = `${server.root}/bench/${client}-${sequence}.bin`;
  const call = await invocation(remotePath, size, inputFile);
  try {
    const cost = await runMeasured(call.command, call.args, { scratch: context.scratch, timeoutMs: 1_200_000 });
    const stored = await stat(remotePath).catch(() => undefined);
    if (stored?.size !== size) throw new Error(`${client} exited 0 but the server holds ${stored?.size ?? 'no'} bytes of ${size}`);
    if (verify && (await fileCrc32(remotePath)) !== patternCrc32(size)) throw new Error(`${client} stored ${size} bytes that differ from the source`);
    return { wallSeconds: cost.wallSeconds, cpuSeconds: cost.userSeconds + cost.systemSeconds, maxRssMiB: cost.maxRssKiB / KiB };
  } finally {
    await rm(remotePath, { force: true });
  }
}

/**
 * Our SFTP destination beside OpenSSH's `sftp` and rclone's sftp backend, each uploading the same
 * bytes to the same OpenSSH sshd on loopback (the one the tests start), one client process at a
 * time, measured by wait4. MiB/s is the size over the process's wall time less its start-up (the
 * median wall time of a 1 KiB upload: process start, connection, login); CPU and peak RSS are the
 * whole process's (the OpenSSH client's `ssh` child included).
 */
export async function measureSftp(sizes: readonly number[], context: SftpBenchContext): Promise<SftpBenchResult> {
  const server = await startSftpServer();
  try {
    const unavailable = new Map<SftpClient, string>();
    const commands = await invocations(server, context, unavailable);
    const available = sftpClients.filter((client) => !unavailable.has(client));
    // Every client writes into bench/, owned by the SFTP user (OpenSSH's put makes no folders).
    const owner = await stat(server.root);
    await mkdir(join(server.root, 'bench'));
    await chown(join(server.root, 'bench'), owner.uid, owner.gid);
    const inputs = new Map<number, string>();
    const inputFor = async (size: number): Promise<string> => {
      let file = inputs.get(size);
      if (!file) {
        file = join(context.inputDirectory, `sftp-${size}.bin`);
        await writePatternFile(file, size);
        inputs.set(size, file);
      }
      return file;
    };

    const startupSeconds: Partial<Record<SftpClient, number>> = {};
    const startupCpuSeconds: Partial<Record<SftpClient, number>> = {};
    for (const client of available) {
      const runs: SftpRun[] = [];
      for (let round = 0; round < context.runs; round += 1) runs.push(await uploadOnce(server, commands[client], client, KiB, await inputFor(KiB), context, false));
      startupSeconds[client] = median(runs.map((run) => run.wallSeconds));
      startupCpuSeconds[client] = median(runs.map((run) => run.cpuSeconds));
    }

    const results: SftpBenchResult['sizes'] = [];
    for (const size of sizes) {
      const inputFile = await inputFor(size);
      const clients = sftpClients.map((client): SftpClientResult => ({ client, label: labels[client], status: unavailable.has(client) ? 'skipped' : 'measured', ...(unavailable.has(client) ? { reason: unavailable.get(client) } : {}), runs: [] }));
      const measured = (): SftpClientResult[] => clients.filter((result) => result.status === 'measured');
      const verifiedIsTimed = verifiedRunIsTimed(context.runs);
      const timed = (result: SftpClientResult, run: SftpRun, round: number): void => {
        result.runs.push(run);
        context.log(`  sftp ${sizeLabel(size)} ${result.client} run ${round + 1}/${context.runs}: ${(size / MiB / Math.max(0.001, run.wallSeconds)).toFixed(0)} MiB/s (whole process)`);
      };
      for (const result of measured()) {
        try {
          const run = await uploadOnce(server, commands[result.client], result.client, size, inputFile, context, true);
          result.verified = true;
          if (verifiedIsTimed) timed(result, run, 0);
        } catch (error) {
          result.status = 'failed';
          result.reason = String(error);
        }
      }
      for (let round = verifiedIsTimed ? 1 : 0; round < context.runs; round += 1) {
        // Rotating the order spreads the shared machine's drift over every client.
        const order = measured();
        for (let turn = 0; turn < order.length; turn += 1) {
          const result = order[(turn + round) % order.length]!;
          try {
            timed(result, await uploadOnce(server, commands[result.client], result.client, size, inputFile, context, false), round);
          } catch (error) {
            result.status = 'failed';
            result.reason = String(error);
          }
        }
      }
      for (const result of measured()) {
        const startup = startupSeconds[result.client] ?? 0;
        const startupCpu = startupCpuSeconds[result.client] ?? 0;
        result.summary = {
          mibPerSecond: median(result.runs.map((run) => size / MiB / Math.max(0.001, run.wallSeconds - startup))),
          cpuSecondsPerGiB: median(result.runs.map((run) => (run.cpuSeconds * GiB) / size)),
          netCpuSecondsPerGiB: median(result.runs.map((run) => (Math.max(0, run.cpuSeconds - startupCpu) * GiB) / size)),
          maxRssMiB: median(result.runs.map((run) => run.maxRssMiB)),
        };
      }
      const ours = clients.find((result) => result.client === 'ours')?.summary;
      for (const result of measured()) {
        if (result.client !== 'ours') result.oursOver = { throughput: ratio(ours?.mibPerSecond, result.summary?.mibPerSecond), cpu: ratio(ours?.cpuSecondsPerGiB, result.summary?.cpuSecondsPerGiB) };
      }
      results.push({ size, label: sizeLabel(size), clients });
    }
    for (const file of inputs.values()) await rm(file, { force: true });
    return { server: `OpenSSH sshd (internal-sftp) on loopback, port ${server.port}`, sizes: results, startupSeconds, startupCpuSeconds };
  } finally {
    await server.close();
  }
}

const fixed = (value: number | undefined, digits: number): string => (value === undefined ? '–' : value.toFixed(digits));
const times = (value: number | undefined): string => (value === undefined ? '–' : `${value.toFixed(2)}×`);

/** The section's Markdown table. */
export function renderSftpTable(result: SftpBenchResult): string {
  const rows = result.sizes.flatMap((size) =>
    size.clients.map((client) =>
      client.status !== 'measured' || !client.summary
        ? [size.label, client.label, `${client.status}: ${(client.reason ?? 'no runs').slice(0, 110)}`, '', '', '', '', '', '']
        : [
            size.label,
            client.label,
            fixed(client.summary.mibPerSecond, 0),
            fixed(client.summary.cpuSecondsPerGiB, 2),
            fixed(client.summary.netCpuSecondsPerGiB, 2),
            fixed(client.summary.maxRssMiB, 0),
            client.verified ? 'yes' : 'no',
            client.client === 'ours' ? '' : times(client.oursOver?.throughput),
            client.client === 'ours' ? '' : times(client.oursOver?.cpu),
          ],
    ),
  );
  const startup = Object.entries(result.startupSeconds)
    .map(([client, seconds]) => `${client} ${fixed(seconds, 2)} s (CPU ${fixed(result.startupCpuSeconds[client as SftpClient], 2)} s)`)
    .join(', ');
  return [
    `## sftp: ${result.server}`,
    markdownTable(['size', 'client', 'MiB/s', 'CPU-s/GiB', 'net CPU-s/GiB', 'peak RSS MiB', 'CRC-32 read back', 'ours÷it MiB/s', 'ours÷it net CPU'], rows),
    `start-up (1 KiB upload, wall): ${startup}; MiB/s is the size over the process's wall time less that; net CPU less that CPU`,
  ].join('\n');
}
