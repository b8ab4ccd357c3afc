import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bundle } from '../clients/build.ts';
import type { HttpWorkerTask } from '../clients/workers/http.ts';
import { patternCrc32, writePatternFile } from '../input/pattern.ts';
import { runMeasured } from '../measure/child.ts';
import { verifiedRunIsTimed } from '../measure/rounds.ts';
import { GiB, median, MiB, sizeLabel } from '../measure/stats.ts';
import { markdownTable } from '../report/table.ts';
import { startDiscardServer, type DiscardServer } from '../servers/discard.ts';
import type { SelfSignedCertificate } from '../servers/tls.ts';

/** The HTTP destination (PUT and POST form) beside curl doing the same (`-T` and `-F`). */
export const httpClients = ['ours-put', 'curl-put', 'ours-post', 'curl-form'] as const;
export type HttpClient = (typeof httpClients)[number];

const labels: Record<HttpClient, string> = {
  'ours-put': 'ours, PUT',
  'curl-put': 'curl -T (PUT)',
  'ours-post': 'ours, POST form',
  'curl-form': 'curl -F (POST form)',
};

/** Bytes a form may add around the file (boundaries, the part's headers). */
const formOverheadBytes = 4096;

export interface HttpClientResult {
  readonly client: HttpClient;
  readonly label: string;
  status: 'measured' | 'failed';
  reason?: string;
  /** Request body bytes of the verified run (the file, plus a form's framing). */
  bodyBytes?: number;
  readonly runs: { readonly transferSeconds: number; readonly cpuSeconds: number; readonly maxRssMiB: number }[];
  mibPerSecond?: number;
  cpuSecondsPerGiB?: number;
  /** CPU per GiB after taking off the client's start-up CPU (a 1 KiB upload). */
  netCpuSecondsPerGiB?: number;
  maxRssMiB?: number;
}

export interface HttpUploadsResult {
  readonly target: 'http' | 'https';
  /** CPU seconds of a 1 KiB upload per client: its start-up cost. */
  readonly startupCpuSeconds: Partial<Record<HttpClient, number>>;
  readonly sizes: { readonly size: number; readonly label: string; readonly clients: HttpClientResult[] }[];
}

export interface HttpSectionContext {
  readonly sizes: readonly number[];
  readonly runs: number;
  readonly scratch: string;
  /** Where curl's input files go (tmpfs when there is one). */
  readonly inputDirectory: string;
  /** Where our worker is bundled. */
  readonly buildDirectory: string;
  /** HTTPS runs too, when given (every client is told to trust it). */
  readonly certificate: SelfSignedCertificate | undefined;
  readonly log: (line: string) => void;
}

function invocation(client: HttpClient, url: string, size: number, inputFile: string, worker: string, caFile: string | undefined): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  if (client === 'ours-put' || client === 'ours-post') {
    const task: HttpWorkerTask = { url, method: client === 'ours-put' ? 'PUT' : 'POST', filename: 'bench.bin', size };
    return { command: process.execPath, args: [worker, JSON.stringify(task)], env: { ...process.env, ...(caFile ? { NODE_EXTRA_CA_CERTS: caFile } : {}) } };
  }
  const upload = client === 'curl-put' ? ['-T', inputFile] : ['-F', `file=@${inputFile};type=application/octet-stream`];
  return { command: 'curl', args: ['-sS', '--fail', '-o', '/dev/null', ...(caFile ? ['--cacert', caFile] : []), ...upload, url], env: process.env };
}

let sequence = 0;

/** One upload: the process measured, the server's window read, the body checked when verifying. */
async function uploadOnce(server: DiscardServer, client: HttpClient, size: number, inputFile: string, worker: string, context: HttpSectionContext): Promise<{ transferSeconds: number; cpuSeconds: number; maxRssMiB: number; bodyBytes: number }> {
  sequence += 1;
  const path = `/bench/${client}-${sequence}.bin`;
  const call = invocation(client, `${server.endpoint}${path}`, size, inputFile, worker, context.certificate && server.endpoint.startsWith('https:') ? context.certificate.certFile : undefined);
  const cost = await runMeasured(call.command, call.args, { env: call.env, scratch: context.scratch });
  const window = server.clock.window(path);
  const received = server.received(path);
  server.clock.forget(path);
  if (!window || !received) throw new Error(`${client} exited 0 but the server saw no upload to ${path}`);
  const isForm = client === 'ours-post' || client === 'curl-form';
  if (isForm ? received.bytes <= size || received.bytes > size + formOverheadBytes : received.bytes !== size) {
    throw new Error(`${client} sent ${received.bytes} body bytes for a ${size}-byte file`);
  }
  if (!isForm && received.crc32 !== undefined && received.crc32 !== patternCrc32(size)) throw new Error(`${client}: the bytes that arrived are not the file's`);
  return {
    transferSeconds: (window.endedAt - window.startedAt) / 1000,
    cpuSeconds: cost.userSeconds + cost.systemSeconds,
    maxRssMiB: cost.maxRssKiB / 1024,
    bodyBytes: received.bytes,
  };
}

/** CPU of a 1 KiB upload per client (median of `runs`): what each pays before its first byte. */
async function startupCpu(server: DiscardServer, worker: string, context: HttpSectionContext): Promise<Partial<Record<HttpClient, number>>> {
  const inputFile = join(context.inputDirectory, 'http-input-startup.bin');
  await writePatternFile(inputFile, 1024);
  try {
    const entries = [];
    for (const client of httpClients) {
      const runs = [];
      for (let round = 0; round < context.runs; round += 1) runs.push((await uploadOnce(server, client, 1024, inputFile, worker, context)).cpuSeconds);
      entries.push([client, median(runs)]);
    }
    return Object.fromEntries(entries) as Partial<Record<HttpClient, number>>;
  } finally {
    await rm(inputFile, { force: true });
  }
}

async function measureTarget(server: DiscardServer, target: 'http' | 'https', worker: string, context: HttpSectionContext): Promise<HttpUploadsResult> {
  const sizes: HttpUploadsResult['sizes'] = [];
  const startup = await startupCpu(server, worker, context);
  for (const size of context.sizes) {
    const label = sizeLabel(size);
    const inputFile = join(context.inputDirectory, `http-input-${size}.bin`);
    await writePatternFile(inputFile, size);
    const results = httpClients.map((client): HttpClientResult => ({ client, label: labels[client], status: 'measured', runs: [] }));
    try {
      const timed = (result: HttpClientResult, run: HttpClientResult['runs'][number]): void => {
        result.runs.push(run);
        context.log(`  ${target} ${label} ${result.client}: ${(size / MiB / run.transferSeconds).toFixed(0)} MiB/s, ${run.cpuSeconds.toFixed(2)} CPU-s, ${run.maxRssMiB.toFixed(0)} MiB RSS`);
      };
      // One verified, untimed run each (the PUT bodies' CRC-32 checked), which also warms caches;
      // the timed one when there is one.
      const verifiedIsTimed = verifiedRunIsTimed(context.runs);
      server.verify = true;
      for (const result of results) {
        try {
          const run = await uploadOnce(server, result.client, size, inputFile, worker, context);
          result.bodyBytes = run.bodyBytes;
          if (verifiedIsTimed) timed(result, run);
        } catch (error) {
          Object.assign(result, { status: 'failed', reason: String(error) });
        }
      }
      server.verify = false;
      for (let round = verifiedIsTimed ? 1 : 0; round < context.runs; round += 1) {
        // The order rotates each round, so drift on a shared machine spreads over all clients.
        const order = results.filter((result) => result.status === 'measured');
        for (const result of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
          timed(result, await uploadOnce(server, result.client, size, inputFile, worker, context));
        }
      }
    } finally {
      await rm(inputFile, { force: true });
    }
    for (const result of results) {
      result.mibPerSecond = median(result.runs.map((run) => size / MiB / run.transferSeconds));
      const cpu = median(result.runs.map((run) => run.cpuSeconds));
      result.cpuSecondsPerGiB = cpu === undefined ? undefined : cpu / (size / GiB);
      const fixedCost = startup[result.client];
      result.netCpuSecondsPerGiB = cpu === undefined || fixedCost === undefined ? undefined : Math.max(0, cpu - fixedCost) / (size / GiB);
      result.maxRssMiB = median(result.runs.map((run) => run.maxRssMiB));
    }
    sizes.push({ size, label, clients: results });
  }
  return { target, startupCpuSeconds: startup, sizes };
}

/**
 * Our HTTP destination beside curl, into a server that counts and discards the bytes: the same
 * file as a PUT and as a POST form, each client in its own process measured by wait4 (CPU, peak RSS),
 * timed at the server from the first request to the last answer.
 */
export async function measureHttpUploads(context: HttpSectionContext): Promise<HttpUploadsResult[]> {
  const built = await bundle(join(import.meta.dirname, '..', 'clients', 'workers', 'http.ts'), join(context.buildDirectory, 'http-worker.mjs'));
  if ('error' in built) throw new Error(`the HTTP worker did not bundle: ${built.error}`);
  const results: HttpUploadsResult[] = [];
  const plain = await startDiscardServer();
  try {
    results.push(await measureTarget(plain, 'http', built.file, context));
  } finally {
    await plain.close();
  }
  if (context.certificate) {
    const secure = await startDiscardServer({ tls: context.certificate });
    try {
      results.push(await measureTarget(secure, 'https', built.file, context));
    } finally {
      await secure.close();
    }
  }
  return results;
}

const fixed = (value: number | undefined, digits: number): string => (value === undefined ? '–' : value.toFixed(digits));

/** One table per target: MiB/s, CPU-s/GiB and peak RSS of every client at every size. */
export function renderHttpUploads(results: readonly HttpUploadsResult[]): string {
  return results
    .map((result) => {
      const rows = result.sizes.flatMap((size) =>
        size.clients.map((client) =>
          client.status === 'failed'
            ? [size.label, client.label, `failed: ${(client.reason ?? '').slice(0, 100)}`, '', '', '', '']
            : [size.label, client.label, fixed(client.mibPerSecond, 0), fixed(client.cpuSecondsPerGiB, 2), fixed(client.netCpuSecondsPerGiB, 2), fixed(client.maxRssMiB, 0), String(client.bodyBytes ?? '–')],
        ),
      );
      const startup = Object.entries(result.startupCpuSeconds).map(([client, seconds]) => `${client} ${fixed(seconds, 2)} s`);
      return (
        `## http destination: ${result.target} into a discarding server, beside curl\n` +
        `${markdownTable(['size', 'client', 'MiB/s', 'CPU-s/GiB', 'net CPU-s/GiB', 'RSS MiB', 'body bytes'], rows)}\n` +
        `start-up CPU (1 KiB upload): ${startup.join(', ')}`
      );
    })
    .join('\n\n');
}
