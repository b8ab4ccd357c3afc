import { MiB, spreadLabel } from '../measure/stats.ts';
import { ceilingClients } from '../clients/commands.ts';
import type { ClientResult, ThroughputResult } from '../sections/throughput.ts';
import type { BenchResults } from './results.ts';

/** A Markdown table with aligned columns: readable in a terminal and pasteable into the README. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const fixed = (value: number | undefined, digits: number): string => (value === undefined ? '–' : value.toFixed(digits));
const times = (value: number | undefined): string => (value === undefined ? '–' : `${value.toFixed(2)}×`);

function shape(result: ClientResult): string {
  const check = result.check;
  if (!check?.parts) return check ? `in flight ${check.maxInFlight}` : '';
  const partSize = check.partSize === undefined ? '?' : `${Number((check.partSize / MiB).toFixed(1))} MiB`;
  return check.parts === 1 ? `1 PUT` : `${check.parts}×${partSize}, ${check.maxInFlight} at once`;
}

function throughputTable(result: ThroughputResult): string {
  const rows: string[][] = [];
  for (const size of result.sizes) {
    for (const client of size.clients) {
      if (client.status !== 'measured' || !client.summary) {
        rows.push([size.label, client.label, `${client.status}: ${(client.reason ?? 'no runs').slice(0, 110)}`, '', '', '', '', '', '', '', '']);
        continue;
      }
      const summary = client.summary;
      rows.push([
        size.label,
        client.label,
        fixed(summary.mibPerSecond, 0),
        `${spreadLabel(summary.spread.mibPerSecond)} / ${spreadLabel(summary.spread.cpuSecondsPerGiB)}`,
        fixed(summary.cpuSecondsPerGiB, 2),
        fixed(summary.netCpuSecondsPerGiB, 2),
        fixed(summary.maxRssMiB, 0),
        shape(client),
        (client.check?.integrity ?? []).join(' ') || (ceilingClients.has(client.client) ? 'none' : '–'),
        client.client === 'ours' ? '' : times(client.oursOver?.throughput),
        client.client === 'ours' ? '' : times(client.oursOver?.cpu),
      ]);
    }
  }
  return markdownTable(['size', 'client', 'MiB/s', 'spread MiB/s / CPU', 'CPU-s/GiB', 'net CPU-s/GiB', 'RSS MiB', 'parts', 'integrity sent', 'ours÷it MiB/s', 'ours÷it CPU'], rows);
}

/** The printed summary: one table per section, then the issue's targets. */
export function renderReport(results: BenchResults): string {
  const out: string[] = [];
  const machine = results.machine;
  out.push(`Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}; load average ${machine.loadAverageAtStart.map((value) => value.toFixed(2)).join(' ')} at start, ${results.loadAverageAtEnd.map((value) => value.toFixed(2)).join(' ')} at end`);
  for (const [name, status] of Object.entries(results.tools)) {
    out.push(`  ${name}: ${'available' in status ? (status.available ? status.version : `UNAVAILABLE: ${status.reason}`) : status.error}`);
  }
  for (const result of [results.sink, results.https, results.s3rver]) {
    if (!result) continue;
    out.push('', `## ${result.target}: ${result.description}`, throughputTable(result));
    const startup = Object.entries(result.startupCpuSeconds).map(([client, value]) => `${client} ${value.toFixed(2)} s`);
    if (startup.length > 0) out.push(`start-up CPU (1 KiB upload): ${startup.join(', ')}`);
  }
  for (const memory of results.memory ?? []) {
    const source = memory.source === 'url' ? 'the source read from a URL, as a function reads it' : 'the source generated in the process';
    out.push('', `## memory: peak RSS of the process running our uploader into ${memory.target}, ${source}; floor (1 KiB upload) ${fixed(memory.floorRssMiB, 0)} MiB`);
    out.push(
      markdownTable(
        ['size', 'peak RSS MiB', 'runs', 'MiB/s', 'CPU-s/GiB'],
        memory.sizes.map((size) => [
          size.label,
          size.error ? `failed: ${size.error.slice(0, 80)}` : fixed(size.peakRssMiB, 0),
          size.runsRssMiB.map((value) => value.toFixed(0)).join(' '),
          fixed(size.mibPerSecond, 0),
          fixed(size.cpuSecondsPerGiB, 2),
        ]),
      ),
    );
  }
  if (results.coldStart) {
    const cold = results.coldStart;
    out.push('', `## cold start (bare node -e '' = ${fixed(cold.bareNodeMs, 0)} ms, median of ${cold.runs})`);
    const largest = (entry: (typeof cold.entries)[number]): string =>
      entry.largestPackages.slice(0, 4).map((item) => `${item.name} ${(item.bytes / 1024).toFixed(0)}K`).join(', ');
    out.push(markdownTable(['function', 'bundle', 'import over bare node', 'naive (SDK from node_modules)', 'largest parts'], cold.entries.map((entry) => [entry.name, entry.bundleBytes === undefined ? '–' : `${(entry.bundleBytes / 1024).toFixed(0)} KiB`, entry.error ? `failed: ${entry.error.slice(0, 80)}` : `+${fixed(entry.importMs, 0)} ms`, entry.naiveImportMs === undefined ? '–' : `+${fixed(entry.naiveImportMs, 0)} ms`, largest(entry)])));
  }
  for (const tuning of results.tuning ?? []) {
    out.push('', `## tuning: our multipart code, ${tuning.label} into ${tuning.target}`);
    out.push(markdownTable(['variant', 'MiB/s', 'spread', 'CPU-s/GiB', 'RSS MiB', 'integrity sent'], tuning.variants.map((variant) => [variant.name, variant.error ? `failed: ${variant.error.slice(0, 80)}` : fixed(variant.mibPerSecond, 0), spreadLabel(variant.mibPerSecondSpread), fixed(variant.cpuSecondsPerGiB, 2), fixed(variant.maxRssMiB, 0), (variant.integrity ?? []).join(' ')])));
  }
  if (results.putSwitch && results.putSwitch.length > 0) {
    out.push('', '## switch: one streamed PUT (CRC-32 trailer) beside parts, by size');
    const rows = results.putSwitch.flatMap((result) =>
      result.variants.map((variant) => [result.target, result.label, variant.name, variant.error ? `failed: ${variant.error.slice(0, 80)}` : fixed(variant.mibPerSecond, 0), spreadLabel(variant.mibPerSecondSpread), fixed(variant.cpuSecondsPerGiB, 2), spreadLabel(variant.cpuSpread), fixed(variant.maxRssMiB, 0)]),
    );
    out.push(markdownTable(['target', 'size', 'variant', 'MiB/s', 'spread', 'CPU-s/GiB', 'spread', 'RSS MiB'], rows));
  }
  for (const lambda of results.lambdaMemory ?? []) {
    const { mibPerSecond, cpuSecondsPerGiB } = lambda.unthrottled;
    out.push('', `## lambda: our uploader, ${lambda.label} into ${lambda.target}, under a CPU quota of memory ÷ 1,769 MB vCPUs; unthrottled ${fixed(mibPerSecond, 0)} MiB/s at ${fixed(cpuSecondsPerGiB, 2)} CPU-s/GiB${lambda.unsupported ? `; NOT MEASURED (${lambda.unsupported}): model only` : ''}`);
    out.push(
      markdownTable(
        ['memory', 'vCPU', 'MiB/s', 'spread', 'CPU-s/GiB', 'model MiB/s', 'USD per GiB'],
        lambda.rows.map((row) => [`${row.memoryMb} MB`, row.share.toFixed(2), row.error ? `failed: ${row.error.slice(0, 60)}` : fixed(row.mibPerSecond, 0), spreadLabel(row.mibPerSecondSpread), fixed(row.cpuSecondsPerGiB, 2), fixed(row.modelMibPerSecond, 0), row.costPerGiB === undefined ? '–' : row.costPerGiB.toFixed(6)]),
      ),
    );
  }
  if (results.pipeline) {
    out.push('', `## pipeline: ${results.pipeline.fileBytes}-byte deliveries through the local runtime (closed-loop clients)`);
    const warmUp = results.pipeline.warmUp ?? [];
    if (warmUp.length > 0) {
      const windows = warmUp.map((window) => `${window.deliveriesPerSecond.toFixed(0)}/s at ${window.cpuMsPerDelivery.toFixed(1)} ms`).join(' → ');
      out.push(`Warm-up at 64 clients, ${warmUp.length} windows of ${warmUp[0]!.deliveries} deliveries (deliveries/s at runtime CPU per delivery): ${windows}.`);
    }
    out.push(
      markdownTable(
        ['clients', 'deliveries', 'deliveries/s', 'added p50 ms', 'added p99 ms', 'round trip p50 ms', 'round trip p99 ms', 'runtime CPU ms per delivery', 'clients CPU ms per delivery'],
        results.pipeline.levels.map((level) => [
          String(level.clients),
          String(level.deliveries),
          level.deliveriesPerSecond.toFixed(0),
          level.addedLatencyMs.p50?.toFixed(0) ?? '?',
          level.addedLatencyMs.p99?.toFixed(0) ?? '?',
          level.roundTripMs.p50?.toFixed(0) ?? '?',
          level.roundTripMs.p99?.toFixed(0) ?? '?',
          level.cpuMsPerDelivery?.toFixed(1) ?? '?',
          level.clientCpuMsPerDelivery?.toFixed(1) ?? '?',
        ]),
      ),
    );
    const split = results.pipeline.levels.filter((level) => level.cpuSplitMsPerDelivery !== undefined);
    if (split.length > 0) {
      out.push('', '## pipeline: runtime CPU ms per delivery by thread (functions: the ingress and the S3 function, with the V8 and libuv helper threads; host: gateway, S3 front, SQS pollers; then each stand-in server)');
      out.push(
        markdownTable(
          ['clients', 'functions', 'host', 'DynamoDB (dynalite)', 'SQS (fauxqs)', 'S3 (s3rver)'],
          split.map(({ clients, cpuSplitMsPerDelivery: cpu }) => [String(clients), ...[cpu!.functions, cpu!.host, cpu!.dynamodb, cpu!.sqs, cpu!.s3].map((ms) => ms.toFixed(1))]),
        ),
      );
    }
  }
  if (results.youtube) {
    out.push('', `## youtube: ${results.youtube.description}`);
    const rows = results.youtube.sizes.flatMap((size) =>
      size.clients.map((client) => [size.label, client.client, client.error ? `failed: ${client.error.slice(0, 80)}` : fixed(client.mibPerSecond, 0), fixed(client.cpuSecondsPerGiB, 2), fixed(client.maxRssMiB, 0), String(client.requests ?? '–')]),
    );
    out.push(markdownTable(['size', 'client', 'MiB/s', 'CPU-s/GiB', 'RSS MiB', 'upload requests'], rows));
  }
  if (results.skipped.length > 0) {
    out.push('', '## skipped');
    for (const item of results.skipped) out.push(`- ${item.what}: ${item.reason}`);
  }
  out.push('', '## targets: issue 13, and issue 4\'s that still apply (ratios within this run)');
  out.push(markdownTable(['target', 'measured', 'met'], results.goals.map((goal) => [goal.goal, goal.measured, goal.met === undefined ? 'n/a' : goal.met ? 'yes' : 'NO'])));
  return out.join('\n');
}
