import { GiB, MiB, ratio, spreadLabel, type Spread } from '../measure/stats.ts';
import { defaultChunkBytes } from '../../../functions/destinations/dropbox/upload.ts';
import { clientLabels, type ClientName } from '../clients/commands.ts';
import type { ThroughputResult } from '../sections/throughput.ts';
import type { BenchResults } from './results.ts';
import { markdownTable } from './table.ts';
import { assumedNetworkMibPerSecond, costPerGiB, modelledMibPerSecond, recommendedMemoryMb, vcpuShare } from '../sections/lambda-memory.ts';

/** One client's figures at one size. */
export interface Figures {
  readonly label: string;
  readonly mibPerSecond: number | undefined;
  readonly cpuSecondsPerGiB: number | undefined;
  readonly maxRssMiB: number | undefined;
  readonly spread?: Spread;
}

/** One destination at one size: ours, the best peer (highest MiB/s), and the ceiling when the section has one. */
export interface DestinationRow {
  readonly destination: string;
  readonly transport: string;
  readonly size: number;
  readonly ours: Figures;
  readonly bestPeer: Figures | undefined;
  readonly ceiling: Figures | undefined;
}

/** The sizes the summary speaks of. */
const summarySizes = [64 * MiB, GiB];

/** The fastest of the peers that were measured. */
export function bestOf(peers: readonly (Figures | undefined)[]): Figures | undefined {
  return peers
    .filter((peer): peer is Figures => peer?.mibPerSecond !== undefined)
    .reduce<Figures | undefined>((best, peer) => (best === undefined || (peer.mibPerSecond ?? 0) > (best.mibPerSecond ?? 0) ? peer : best), undefined);
}

const s3Peers: readonly ClientName[] = ['aws-cli', 'rclone', 'lib-storage'];

function s3Rows(result: ThroughputResult | undefined, transport: string): DestinationRow[] {
  return (result?.sizes ?? []).flatMap((size) => {
    const figures = (client: ClientName): Figures | undefined => {
      const found = size.clients.find((item) => item.client === client);
      if (!found?.summary) return undefined;
      const { mibPerSecond, cpuSecondsPerGiB, maxRssMiB, spread } = found.summary;
      return { label: clientLabels[client], mibPerSecond, cpuSecondsPerGiB, maxRssMiB, ...(spread.mibPerSecond ? { spread: spread.mibPerSecond } : {}) };
    };
    const ours = figures('ours');
    if (!ours) return [];
    return [{ destination: 's3', transport, size: size.size, ours, bestPeer: bestOf(s3Peers.map(figures)), ceiling: figures('plain-put') }];
  });
}

/** Rows of a section shaped as sizes × clients with a summary (Azure Blob, SFTP). */
function summarizedRows(
  destination: string,
  transport: string,
  sizes: readonly { size: number; clients: readonly { client: string; label: string; summary?: { mibPerSecond?: number; cpuSecondsPerGiB?: number; maxRssMiB?: number } }[] }[] | undefined,
): DestinationRow[] {
  return (sizes ?? []).flatMap((size) => {
    const figures = size.clients.flatMap((client): (Figures & { client: string })[] =>
      client.summary ? [{ client: client.client, label: client.label, mibPerSecond: client.summary.mibPerSecond, cpuSecondsPerGiB: client.summary.cpuSecondsPerGiB, maxRssMiB: client.summary.maxRssMiB }] : [],
    );
    const ours = figures.find((item) => item.client === 'ours');
    if (!ours) return [];
    return [{ destination, transport, size: size.size, ours, bestPeer: bestOf(figures.filter((item) => item.client !== 'ours')), ceiling: undefined }];
  });
}

/**
 * Every destination measured in this run at 64 MiB and 1 GiB, beside its best peer and ceiling,
 * from the sections' own results (a section not run has no rows).
 */
export function destinationRows(results: BenchResults): DestinationRow[] {
  const rows: DestinationRow[] = [...s3Rows(results.sink, 'http'), ...s3Rows(results.https, 'https')];
  rows.push(...summarizedRows('azureblob', 'http (Azurite)', results.azureblob?.sizes));
  rows.push(...summarizedRows('sftp', 'ssh', results.sftp?.sizes));
  for (const http of results.http ?? []) {
    for (const size of http.sizes) {
      const figures = (client: string): Figures | undefined => {
        const found = size.clients.find((item) => item.client === client && item.status === 'measured');
        return found ? { label: found.label, mibPerSecond: found.mibPerSecond, cpuSecondsPerGiB: found.cpuSecondsPerGiB, maxRssMiB: found.maxRssMiB } : undefined;
      };
      for (const [ours, peer, method] of [['ours-put', 'curl-put', 'PUT'], ['ours-post', 'curl-form', 'POST form']] as const) {
        const own = figures(ours);
        if (own) rows.push({ destination: 'http', transport: `${http.target} ${method}`, size: size.size, ours: own, bestPeer: figures(peer), ceiling: undefined });
      }
    }
  }
  const ftp = results.ftp?.summaries ?? [];
  for (const summary of ftp.filter((item) => item.client === 'ours')) {
    const figures = (item: (typeof ftp)[number]): Figures => ({ label: item.client, mibPerSecond: item.mibPerSecond, cpuSecondsPerGiB: item.cpuSecondsPerGiB, maxRssMiB: item.maxRssMiB });
    const peers = ftp.filter((item) => item.client !== 'ours' && item.secure === summary.secure && item.size === summary.size).map(figures);
    const transport = summary.secure === false ? 'plain FTP' : `${summary.secure} FTPS`;
    rows.push({ destination: 'ftp', transport, size: summary.size, ours: figures(summary), bestPeer: bestOf(peers), ceiling: undefined });
  }
  for (const size of results.youtube?.sizes ?? []) {
    const figures = (client: string): Figures | undefined => {
      const found = size.clients.find((item) => item.client === client && item.error === undefined);
      return found ? { label: client, mibPerSecond: found.mibPerSecond, cpuSecondsPerGiB: found.cpuSecondsPerGiB, maxRssMiB: found.maxRssMiB } : undefined;
    };
    const ours = figures('ours');
    if (ours) rows.push({ destination: 'youtube', transport: 'http (fake)', size: size.size, ours, bestPeer: undefined, ceiling: figures('single-request') });
  }
  for (const row of results.facebook?.rows ?? []) {
    if (row.error !== undefined) continue;
    const ours = { label: row.flow, mibPerSecond: row.mibPerSecond, cpuSecondsPerGiB: row.cpuSecondsPerGiB, maxRssMiB: row.peakRssMiB };
    rows.push({ destination: 'facebook', transport: row.flow.split(':')[0] ?? row.flow, size: row.size, ours, bestPeer: undefined, ceiling: undefined });
  }
  const dropboxSizes = new Set<number>();
  for (const run of results.dropbox?.results ?? []) {
    // The sweep may have measured the default chunk at a size too: one row per size.
    if (run.error !== undefined || run.chunkMiB !== defaultChunkBytes / MiB || dropboxSizes.has(run.size)) continue;
    dropboxSizes.add(run.size);
    const ours = { label: `${run.chunkMiB} MiB chunks`, mibPerSecond: run.mibPerSecond, cpuSecondsPerGiB: run.cpuSecondsPerGiB, maxRssMiB: run.peakRssMiB };
    rows.push({ destination: 'dropbox', transport: 'https (fake)', size: run.size, ours, bestPeer: undefined, ceiling: undefined });
  }
  return rows.filter((row) => summarySizes.includes(row.size));
}

const fixed = (value: number | undefined, digits: number): string => (value === undefined ? '–' : value.toFixed(digits));
const times = (value: number | undefined): string => (value === undefined ? '–' : `${value.toFixed(2)}×`);

/** The per-destination summary table. */
export function renderDestinationSummary(rows: readonly DestinationRow[]): string {
  return markdownTable(
    ['destination', 'transport', 'size', 'ours MiB/s', 'spread', 'CPU-s/GiB', 'RSS MiB', 'best peer', 'peer MiB/s', 'peer CPU-s/GiB', 'ours÷peer MiB/s', 'ours÷peer CPU', 'ours÷ceiling MiB/s'],
    rows.map((row) => [
      row.destination,
      row.transport,
      row.size >= GiB ? `${row.size / GiB} GiB` : `${row.size / MiB} MiB`,
      fixed(row.ours.mibPerSecond, 0),
      spreadLabel(row.ours.spread),
      fixed(row.ours.cpuSecondsPerGiB, 2),
      fixed(row.ours.maxRssMiB, 0),
      row.bestPeer?.label ?? '–',
      fixed(row.bestPeer?.mibPerSecond, 0),
      fixed(row.bestPeer?.cpuSecondsPerGiB, 2),
      times(ratio(row.ours.mibPerSecond, row.bestPeer?.mibPerSecond)),
      times(ratio(row.ours.cpuSecondsPerGiB, row.bestPeer?.cpuSecondsPerGiB)),
      times(ratio(row.ours.mibPerSecond, row.ceiling?.mibPerSecond)),
    ]),
  );
}

/**
 * Per destination at 1 GiB: the memory size the model recommends, and its rate and cost per GiB
 * beside the current setting's, all from this run's CPU-s/GiB and peak RSS (a model, not a
 * measurement on Lambda; the lambda section checks the model for S3 under CPU quotas).
 */
export function renderLambdaModel(rows: readonly DestinationRow[], currentMemoryMb: (destination: string) => number | undefined): string {
  const large = rows.filter((row) => row.size === GiB && row.ours.cpuSecondsPerGiB !== undefined && row.ours.maxRssMiB !== undefined);
  return markdownTable(
    ['destination', 'transport', 'CPU-s/GiB', 'RSS MiB', 'set MB', 'model MiB/s', 'USD/GiB', 'recommended MB', 'bound by', 'model MiB/s', 'USD/GiB'],
    large.map((row) => {
      const cpu = row.ours.cpuSecondsPerGiB!;
      const current = currentMemoryMb(row.destination);
      const recommended = recommendedMemoryMb(cpu, row.ours.maxRssMiB!);
      const rateAt = (memoryMb: number): number => modelledMibPerSecond(vcpuShare(memoryMb), cpu, assumedNetworkMibPerSecond);
      return [
        row.destination,
        row.transport,
        cpu.toFixed(2),
        row.ours.maxRssMiB!.toFixed(0),
        current === undefined ? '–' : String(current),
        current === undefined ? '–' : rateAt(current).toFixed(0),
        current === undefined ? '–' : costPerGiB(current, rateAt(current)).toFixed(6),
        String(recommended.memoryMb),
        recommended.bound,
        rateAt(recommended.memoryMb).toFixed(0),
        costPerGiB(recommended.memoryMb, rateAt(recommended.memoryMb)).toFixed(6),
      ];
    }),
  );
}
