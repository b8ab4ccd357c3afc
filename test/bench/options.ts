import { resolve } from 'node:path';
import { clientNames, type ClientName } from './clients/commands.ts';
import { GiB, MiB, parseSize } from './measure/stats.ts';

export const sectionNames = ['sink', 'https', 's3rver', 'memory', 'cold', 'tuning', 'switch', 'lambda', 'pipeline', 'requests', 'azureblob', 'youtube', 'facebook', 'dropbox', 'http', 'ftp', 'sftp'] as const;
export type SectionName = (typeof sectionNames)[number];

export interface BenchOptions {
  readonly quick: boolean;
  /** Timed runs per client and size (each preceded by one untimed, verified run). */
  readonly runs: number;
  /** Sizes of the other destinations' sections (Azure, HTTP, FTP, SFTP, the OAuth fakes). */
  readonly sizes: readonly number[];
  /** Sizes of the S3 comparison (sink over HTTP and HTTPS): issue 13's, from 1 MiB to 4 GiB. */
  readonly s3Sizes: readonly number[];
  readonly s3rverSizes: readonly number[];
  readonly memorySizes: readonly number[];
  readonly memoryRuns: number;
  readonly coldRuns: number;
  readonly tuningSize: number;
  /** Sizes at which one streamed PUT is compared with parts, to place the switch. */
  readonly switchSizes: readonly number[];
  /** Input of the Lambda memory section (our uploader under CPU quotas). */
  readonly lambdaSize: number;
  readonly sections: ReadonlySet<SectionName>;
  readonly clients: readonly ClientName[];
  readonly out: string;
}

export const usage = `npm run bench -- [options]      (every option also reads an environment variable)
  --quick                 small sizes, one (verified) run each: for development   BENCH_QUICK=1
  --runs=N                timed runs per client and size (default 3)   BENCH_RUNS
  --sizes=64M,1G          input sizes of the other destinations        BENCH_SIZES
  --s3-sizes=1M,8M,64M,256M,1G,4G  S3 sink sizes (HTTP and HTTPS)       BENCH_S3_SIZES
  --s3rver-sizes=64M,1G   sizes into s3rver                            BENCH_S3RVER_SIZES
  --memory-sizes=64M,1G,4G  sources for the peak-RSS runs              BENCH_MEMORY_SIZES
  --memory-runs=N         runs per memory size (default 1)             BENCH_MEMORY_RUNS
  --cold-runs=N           imports per function for cold start (default 11) BENCH_COLD_RUNS
  --tuning-size=1G        input of the part-size/concurrency sweep     BENCH_TUNING_SIZE
  --switch-sizes=1M,8M,64M,256M,1G  one streamed PUT beside parts     BENCH_SWITCH_SIZES
  --lambda-size=256M      input under the Lambda CPU quotas              BENCH_LAMBDA_SIZE
  --sections=a,b          ${sectionNames.join(', ')}   BENCH_SECTIONS
  --skip=a,b              sections to leave out                        BENCH_SKIP
  --clients=a,b           ${clientNames.join(', ')}   BENCH_CLIENTS
  --out=FILE              results file (default bench-results/latest.json) BENCH_OUT`;

function list<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`unknown ${what} '${item}'; choose from ${allowed.join(', ')}`);
  }
  return items as T[];
}

function positive(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got '${text}'`);
  return value;
}

export function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const flags = new Map<string, string>();
  for (const argument of argv) {
    if (argument === '--help' || argument === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(argument);
    if (!match?.[1]) throw new Error(`unknown argument '${argument}'\n${usage}`);
    flags.set(match[1], match[2] ?? 'true');
  }
  const value = (flag: string, variable: string): string | undefined => flags.get(flag) ?? (env[variable] || undefined);
  const quick = ['1', 'true'].includes(value('quick', 'BENCH_QUICK') ?? '');
  const sizes = (flag: string, variable: string, fallback: number[]): number[] =>
    value(flag, variable)?.split(',').map(parseSize) ?? fallback;

  const chosen = value('sections', 'BENCH_SECTIONS');
  const skipped = new Set(list(value('skip', 'BENCH_SKIP') ?? '', sectionNames, 'section'));
  const sections = new Set((chosen ? list(chosen, sectionNames, 'section') : [...sectionNames]).filter((name) => !skipped.has(name)));
  const clients = value('clients', 'BENCH_CLIENTS');

  return {
    quick,
    runs: positive(value('runs', 'BENCH_RUNS') ?? (quick ? '1' : '3'), 'runs'),
    sizes: sizes('sizes', 'BENCH_SIZES', quick ? [16 * MiB] : [64 * MiB, GiB]),
    s3Sizes: sizes('s3-sizes', 'BENCH_S3_SIZES', quick ? [MiB, 16 * MiB] : [MiB, 8 * MiB, 64 * MiB, 256 * MiB, GiB, 4 * GiB]),
    s3rverSizes: sizes('s3rver-sizes', 'BENCH_S3RVER_SIZES', quick ? [16 * MiB] : [64 * MiB, GiB]),
    memorySizes: sizes('memory-sizes', 'BENCH_MEMORY_SIZES', quick ? [16 * MiB, 64 * MiB, 256 * MiB] : [64 * MiB, GiB, 4 * GiB]),
    memoryRuns: positive(value('memory-runs', 'BENCH_MEMORY_RUNS') ?? '1', 'memory-runs'),
    coldRuns: positive(value('cold-runs', 'BENCH_COLD_RUNS') ?? (quick ? '2' : '11'), 'cold-runs'),
    tuningSize: parseSize(value('tuning-size', 'BENCH_TUNING_SIZE') ?? (quick ? '16M' : '1G')),
    switchSizes: sizes('switch-sizes', 'BENCH_SWITCH_SIZES', quick ? [16 * MiB] : [MiB, 8 * MiB, 64 * MiB, 256 * MiB, GiB]),
    lambdaSize: parseSize(value('lambda-size', 'BENCH_LAMBDA_SIZE') ?? (quick ? '16M' : '256M')),
    sections,
    clients: clients ? list(clients, clientNames, 'client') : [...clientNames],
    out: resolve(value('out', 'BENCH_OUT') ?? 'bench-results/latest.json'),
  };
}
