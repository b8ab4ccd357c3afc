import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { startFtpServer, type FtpSecurity, type TestFtpServer } from '../../support/servers/ftp.ts';
import { bundle } from '../clients/build.ts';
import type { FtpWorkerTask } from '../clients/workers/ftp.ts';
import { patternCrc32, writePatternFile } from '../input/pattern.ts';
import { runMeasured } from '../measure/child.ts';
import { verifiedRunIsTimed } from '../measure/rounds.ts';
import { GiB, median, MiB, ratio, sizeLabel } from '../measure/stats.ts';
import { markdownTable } from '../report/table.ts';

export const ftpClients = ['ours', 'curl', 'rclone'] as const;

/**
 * Plain FTP and FTPS. The FTPS runs use implicit TLS: ftp-srv answers AUTH TLS before it starts
 * its TLS, so a client that sends its ClientHello at once (curl, rclone) meets a plain-text
 * reply ("wrong version number"); implicit FTPS puts the same TLS on the same data path.
 */
const securities = [false, 'implicit'] as const;

/**
 * rclone's TLS data connections are never taken by ftp-srv (425 No connection established, tried
 * here with rclone 1.60), and ftp-srv then polls for them forever, which keeps the bench from
 * exiting: rclone is left out of the FTPS runs, and says so.
 */
const knownFailures: readonly FtpClientName[] = ['rclone'];
export type FtpClientName = (typeof ftpClients)[number];

const labels: Record<FtpClientName, string> = {
  ours: 'ours (ftp destination)',
  curl: 'curl -T',
  rclone: 'rclone copyto (ftp backend)',
};

/** One timed upload of one client. */
export interface FtpRun {
  readonly client: FtpClientName;
  readonly secure: FtpSecurity;
  readonly size: number;
  /** From the server's first written byte of the file to its end. */
  readonly transferSeconds: number;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMiB: number;
}

/** The medians of a client's runs at one size and security. */
export interface FtpSummary {
  readonly client: FtpClientName;
  readonly secure: FtpSecurity;
  readonly size: number;
  readonly mibPerSecond: number | undefined;
  readonly cpuSecondsPerGiB: number | undefined;
  readonly maxRssMiB: number | undefined;
}

export interface FtpBenchResults {
  readonly server: string;
  readonly runs: readonly FtpRun[];
  readonly summaries: readonly FtpSummary[];
  readonly skipped: readonly { readonly what: string; readonly reason: string }[];
}

export interface FtpBenchContext {
  readonly node: string;
  readonly curl: string;
  /** Undefined when rclone could not be installed (the reason is in the results' skipped list). */
  readonly rclone: string | undefined;
  readonly scratch: string;
  readonly inputDirectory: string;
  readonly runs: number;
  readonly log: (line: string) => void;
}

interface Invocation {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

interface ServerAccess {
  readonly server: TestFtpServer;
  /** The server's certificate as a PEM file: curl and rclone trust it as a CA, ours pins its fingerprint. */
  readonly caFile: string | undefined;
  readonly rclonePassword: string | undefined;
}

function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', TMPDIR: process.env.TMPDIR };
}

function invocation(client: FtpClientName, access: ServerAccess, path: string, size: number, inputFile: string, context: FtpBenchContext & { worker: string }): Invocation {
  const { server, caFile } = access;
  switch (client) {
    case 'ours': {
      const task: FtpWorkerTask = {
        destination: {
          type: 'ftp',
          host: `${server.host}:${server.port}`,
          filename: `/${path}`,
          user: server.user,
          password: server.password,
          passive: true,
          secure: server.secure,
          ...(server.secure ? { certificate_fingerprint: server.fingerprint256 } : {}),
        },
        size,
      };
      return { command: context.node, args: [context.worker, JSON.stringify(task)], env: baseEnv() };
    }
    case 'curl':
      return {
        command: context.curl,
        args: [
          '-sS', '--fail', '--ftp-create-dirs', '-T', inputFile, '--user', `${server.user}:${server.password}`,
          ...(server.secure ? ['--ssl-reqd', '--cacert', caFile!] : []),
          `${server.secure === 'implicit' ? 'ftps' : 'ftp'}://${server.host}:${server.port}/${path}`,
        ],
        env: baseEnv(),
      };
    case 'rclone':
      return {
        command: context.rclone!,
        args: [
          'copyto', inputFile, `:ftp:${path}`, '--config', join(context.scratch, 'rclone-ftp.conf'),
          '--ftp-host', server.host, '--ftp-port', String(server.port), '--ftp-user', server.user, '--ftp-pass', access.rclonePassword!,
          ...(server.secure === 'implicit' ? ['--ftp-tls'] : server.secure ? ['--ftp-explicit-tls'] : []),
          '--retries', '1', '--low-level-retries', '1', '-q',
        ],
        // Go trusts the certificates of SSL_CERT_FILE: verification stays on.
        env: { ...baseEnv(), ...(caFile ? { SSL_CERT_FILE: caFile } : {}) },
      };
  }
}

async function fileCrc32(path: string): Promise<number> {
  let value = 0;
  for await (const chunk of createReadStream(path)) value = crc32(chunk as Buffer, value);
  return value >>> 0;
}

/** Uploads once and checks the stored file: its size always, its CRC-32 on the verified run. */
async function uploadOnce(
  client: FtpClientName,
  access: ServerAccess,
  size: number,
  inputFile: string,
  verify: boolean,
  context: FtpBenchContext & { worker: string },
): Promise<FtpRun> {
  const { server } = access;
  const path = `bench/${client}-${sizeLabel(size).replace(/\s/g, '')}.bin`;
  server.transfers.length = 0;
  const { command, args, env } = invocation(client, access, path, size, inputFile, context);
  const cost = await runMeasured(command, args, { env, scratch: context.scratch, timeoutMs: 600_000 });
  const stored = join(server.root, path);
  try {
    const { size: storedSize } = await stat(stored);
    if (storedSize !== size) throw new Error(`${client} stored ${storedSize} of ${size} bytes`);
    if (verify && (await fileCrc32(stored)) !== patternCrc32(size)) throw new Error(`${client} stored other bytes than it was given`);
  } finally {
    await rm(stored, { force: true });
  }
  const transfer = [...server.transfers].sort((a, b) => b.bytes - a.bytes)[0];
  if (!transfer?.endedAt || transfer.firstByteAt === undefined) throw new Error(`the server saw no complete transfer from ${client}`);
  return {
    client,
    secure: server.secure,
    size,
    transferSeconds: (transfer.endedAt - transfer.firstByteAt) / 1000,
    wallSeconds: cost.wallSeconds,
    cpuSeconds: cost.userSeconds + cost.systemSeconds,
    maxRssMiB: cost.maxRssKiB / 1024,
  };
}

/**
 * The FTP destination beside `curl -T` and rclone's ftp backend, into ftp-srv on loopback (plain
 * FTP and implicit FTPS): each client is its own process measured by wait4 (CPU and peak RSS), the
 * transfer is timed at the server, and every stored file is checked.
 */
export async function measureFtp(sizes: readonly number[], context: FtpBenchContext): Promise<FtpBenchResults> {
  const skipped: { what: string; reason: string }[] = [];
  const built = await bundle(join(import.meta.dirname, '../clients/workers/ftp.ts'), join(context.scratch, 'ftp-worker.mjs'));
  const clients = ftpClients.filter((client) => {
    if (client === 'ours' && 'error' in built) skipped.push({ what: labels.ours, reason: built.error });
    else if (client === 'rclone' && context.rclone === undefined) skipped.push({ what: labels.rclone, reason: 'rclone is not installed' });
    else return true;
    return false;
  });
  const worker = 'file' in built ? built.file : '';
  await writeFile(join(context.scratch, 'rclone-ftp.conf'), '');
  const runs: FtpRun[] = [];
  if (clients.includes('rclone')) {
    skipped.push({ what: `${labels.rclone} over implicit FTPS`, reason: 'ftp-srv never takes its TLS data connections (425 No connection established)' });
  }
  for (const secure of securities) {
    const server = await startFtpServer({ secure });
    try {
      const caFile = server.certificatePem === undefined ? undefined : join(context.scratch, 'ftp-ca.pem');
      if (caFile) await writeFile(caFile, server.certificatePem!);
      const rclonePassword = context.rclone
        ? (await promisify(execFile)(context.rclone, ['obscure', '--', server.password])).stdout.trim()
        : undefined;
      const access: ServerAccess = { server, caFile, rclonePassword };
      // A client that fails against this server is named with the reason and left out of its runs.
      const failed = new Set<FtpClientName>(secure ? knownFailures : []);
      for (const size of sizes) {
        const inputFile = join(context.inputDirectory, `ftp-input-${size}.bin`);
        await writePatternFile(inputFile, size);
        try {
          // One verified run first (the only timed one when there is one), then the timed ones,
          // rotating the order so drift spreads over all clients.
          const verifiedIsTimed = verifiedRunIsTimed(context.runs);
          for (let round = 0; round <= (verifiedIsTimed ? 0 : context.runs); round += 1) {
            const order = clients.map((_, index) => clients[(index + round) % clients.length]!);
            for (const client of order.filter((name) => !failed.has(name))) {
              context.log(`ftp ${secure || 'plain'} ${sizeLabel(size)} ${client} ${round === 0 ? `verified run${verifiedIsTimed ? ', timed' : ''}` : `run ${round}`}`);
              try {
                const run = await uploadOnce(client, access, size, inputFile, round === 0, { ...context, worker });
                if (round > 0 || verifiedIsTimed) runs.push(run);
              } catch (error) {
                failed.add(client);
                skipped.push({ what: `${labels[client]} over ${secure ? `${secure} FTPS` : 'plain FTP'}`, reason: error instanceof Error ? error.message : String(error) });
              }
            }
          }
        } finally {
          await rm(inputFile, { force: true });
        }
      }
    } finally {
      await server.close();
    }
  }
  const summaries = securities.flatMap((secure) =>
    sizes.flatMap((size) =>
      clients.flatMap((client): FtpSummary[] => {
        const mine = runs.filter((run) => run.client === client && run.secure === secure && run.size === size);
        if (mine.length === 0) return [];
        return [{
          client,
          secure,
          size,
          mibPerSecond: median(mine.map((run) => size / MiB / run.transferSeconds)),
          cpuSecondsPerGiB: median(mine.map((run) => run.cpuSeconds / (size / GiB))),
          maxRssMiB: median(mine.map((run) => run.maxRssMiB)),
        }];
      }),
    ),
  );
  return { server: 'ftp-srv 4.6.3 in the bench process, files on the temporary folder', runs, summaries, skipped };
}

function figure(value: number | undefined, digits: number): string {
  return value === undefined ? '–' : value.toFixed(digits);
}

/** The FTP tables: one per security, ours beside each other client as ratios. */
export function renderFtp(results: FtpBenchResults): string {
  const sections = securities.map((secure) => {
    const rows = results.summaries
      .filter((summary) => summary.secure === secure)
      .map((summary) => {
        const ours = results.summaries.find((other) => other.client === 'ours' && other.secure === secure && other.size === summary.size);
        const versus = summary.client === 'ours' ? ['', ''] : [figure(ratio(ours?.mibPerSecond, summary.mibPerSecond), 2), figure(ratio(ours?.cpuSecondsPerGiB, summary.cpuSecondsPerGiB), 2)];
        return [sizeLabel(summary.size), labels[summary.client], figure(summary.mibPerSecond, 0), figure(summary.cpuSecondsPerGiB, 2), figure(summary.maxRssMiB, 0), ...versus.map((text) => (text ? `${text}×` : ''))];
      });
    const title = secure ? 'implicit FTPS (curl and rclone trust the certificate, ours pins it)' : 'plain FTP';
    return `## ftp-${secure || 'plain'}: ${title}, into ${results.server}\n${markdownTable(['size', 'client', 'MiB/s', 'CPU-s/GiB', 'RSS MiB', 'ours÷it MiB/s', 'ours÷it CPU'], rows)}`;
  });
  const skipped = results.skipped.map((entry) => `skipped: ${entry.what}: ${entry.reason}`);
  return [...sections, ...skipped].join('\n\n');
}
