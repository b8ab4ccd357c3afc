import type { MachineInfo } from '../../support/machine.ts';
import type { ToolStatus } from '../clients/install.ts';
import type { AzureBlobBenchResult } from '../sections/azureblob.ts';
import type { ColdStartResult } from '../sections/cold-start.ts';
import type { DropboxBenchResult } from '../sections/dropbox.ts';
import type { FacebookBenchResult } from '../sections/facebook.ts';
import type { FtpBenchResults } from '../sections/ftp.ts';
import type { MemoryResult } from '../sections/memory.ts';
import type { HttpUploadsResult } from '../sections/http.ts';
import type { PipelineResult } from '../sections/pipeline.ts';
import type { RequestsResult } from '../sections/requests.ts';
import type { SftpBenchResult } from '../sections/sftp.ts';
import type { ThroughputResult } from '../sections/throughput.ts';
import type { LambdaMemoryResult } from '../sections/lambda-memory.ts';
import type { TuningResult } from '../sections/tuning.ts';
import type { YouTubeBenchResult } from '../sections/youtube.ts';
import type { DestinationRow } from './destinations.ts';
import type { GoalCheck } from './goals.ts';

/** The JSON written to bench-results/latest.json: every figure, every run, and what was skipped. */
export interface BenchResults {
  readonly generatedAt: string;
  durationSeconds: number;
  readonly machine: MachineInfo;
  readonly options: Readonly<Record<string, unknown>>;
  readonly tools: Record<string, ToolStatus | { readonly error: string }>;
  /** The machine is shared: a high load at either end means noisier figures. */
  loadAverageAtEnd: readonly number[];
  /** Anchors or sections left out, each with why. */
  readonly skipped: { readonly what: string; readonly reason: string }[];
  sink?: ThroughputResult;
  https?: ThroughputResult;
  s3rver?: ThroughputResult;
  memory?: MemoryResult[];
  coldStart?: ColdStartResult;
  tuning?: TuningResult[];
  /** One streamed PUT beside parts, per target and size: where the single-PUT/multipart switch pays. */
  putSwitch?: TuningResult[];
  /** Our uploader under CPU quotas standing for Lambda memory sizes, with the cost per GiB. */
  lambdaMemory?: LambdaMemoryResult[];
  pipeline?: PipelineResult;
  requests?: RequestsResult;
  azureblob?: AzureBlobBenchResult;
  sftp?: SftpBenchResult;
  http?: HttpUploadsResult[];
  youtube?: YouTubeBenchResult;
  dropbox?: DropboxBenchResult;
  facebook?: FacebookBenchResult;
  ftp?: FtpBenchResults;
  /** Every destination at 64 MiB and 1 GiB beside its best peer and ceiling, from the sections above. */
  destinations?: DestinationRow[];
  goals: GoalCheck[];
  readonly definitions: Readonly<Record<string, string>>;
}

export const definitions = {
  'MiB/s': 'input size / server-side transfer window (first write request received to last write response sent), median of the timed runs',
  'CPU-s/GiB': 'user+sys CPU of the whole client process (wait4, threads included) per GiB, median; the servers run in another process',
  'net CPU-s/GiB': 'the same less the median CPU of a 1 KiB upload by the same client (its start-up: Python, Go or Node plus modules)',
  'peak RSS': 'maximum resident set size of the client process (wait4, ru_maxrss)',
  'ours ÷ it': 'our figure divided by this client\u2019s: > 1 means we are faster (MiB/s) or costlier (CPU)',
  verified: 'before the timed runs, one run per client with the sink checking every digest the client sent and the CRC-32 of the whole object against the source',
};
