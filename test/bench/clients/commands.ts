import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkerName } from './build.ts';
import type { WorkerTask } from './workers/worker-io.ts';

/** Every client the bench compares; `ours` is the project's S3 destination. */
export const clientNames = ['ours', 'aws-cli', 'rclone', 'lib-storage', 'plain-put', 'plain-put-4'] as const;
export type ClientName = (typeof clientNames)[number];

export const clientLabels: Record<ClientName, string> = {
  ours: 'ours (s3 destination)',
  'aws-cli': 'AWS CLI (aws s3 cp)',
  rclone: 'rclone copyto',
  'lib-storage': 'lib-storage defaults',
  'plain-put': 'plain HTTP PUT',
  'plain-put-4': '4 plain PUTs at once',
};

/** The ceilings: plain streamed PUTs into the discard server, which computes nothing. */
export const ceilingClients: ReadonlySet<ClientName> = new Set(['plain-put', 'plain-put-4']);

/** Test keys from the AWS documentation; neither sink nor s3rver verifies signatures. */
export const benchCredentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
} as const;

export interface Upload {
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** The input as a file, for the CLI tools (Node clients generate it as a stream). */
  readonly inputFile: string | undefined;
  /** PEM of the server's self-signed certificate, for HTTPS endpoints. */
  readonly caFile: string | undefined;
  /** Settings for a tuning run; `ours` then runs its multipart code with them (ours-tuned worker). */
  readonly tuning?: Readonly<Record<string, number>>;
  /** `ours` reads the input from this URL, as a function reads its source, instead of generating it. */
  readonly sourceUrl?: string;
}

export interface Invocation {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/** Where each client's program is: bundled Node workers and the Debian tools' absolute paths. */
export interface ClientPrograms {
  readonly node: string;
  readonly workers: Partial<Record<WorkerName, string>>;
  readonly aws?: string;
  readonly rclone?: string;
  /** Config files the tools read instead of the user's own. */
  readonly awsConfigFile: string;
  readonly rcloneConfigFile: string;
}

/** Writes the tools' config files: path-style addressing, no user profile leaking in. */
export async function writeToolConfigs(directory: string): Promise<Pick<ClientPrograms, 'awsConfigFile' | 'rcloneConfigFile'>> {
  const awsConfigFile = join(directory, 'aws-config');
  const rcloneConfigFile = join(directory, 'rclone.conf');
  await writeFile(awsConfigFile, `[default]\nregion = ${benchCredentials.region}\ns3 =\n  addressing_style = path\n`);
  await writeFile(rcloneConfigFile, '');
  return { awsConfigFile, rcloneConfigFile };
}

/** Only what a client needs from the environment, so no AWS_* or proxy setting of the host changes a run. */
function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', TMPDIR: process.env.TMPDIR };
}

export function invocation(client: ClientName, upload: Upload, programs: ClientPrograms): Invocation {
  const env = baseEnv();
  switch (client) {
    case 'ours':
    case 'lib-storage':
    case 'plain-put':
    case 'plain-put-4': {
      const name: WorkerName = client === 'ours' && upload.tuning ? 'ours-tuned' : client === 'plain-put-4' ? 'plain-put' : client;
      const tuning = client === 'plain-put-4' ? { ...upload.tuning, streams: 4 } : upload.tuning;
      const worker = programs.workers[name];
      if (!worker) throw new Error(`the ${name} worker was not built`);
      const task: WorkerTask = {
        endpoint: upload.endpoint,
        bucket: upload.bucket,
        key: upload.key,
        size: upload.size,
        region: benchCredentials.region,
        accessKeyId: benchCredentials.accessKeyId,
        secretAccessKey: benchCredentials.secretAccessKey,
        ...(tuning ? { tuning } : {}),
        ...(upload.sourceUrl ? { sourceUrl: upload.sourceUrl } : {}),
      };
      return {
        command: programs.node,
        args: [worker, JSON.stringify(task)],
        env: { ...env, AWS_EC2_METADATA_DISABLED: 'true', ...(upload.caFile ? { NODE_EXTRA_CA_CERTS: upload.caFile } : {}) },
      };
    }
    case 'aws-cli': {
      if (!programs.aws || !upload.inputFile) throw new Error('aws-cli needs the tool and an input file');
      return {
        command: programs.aws,
        args: ['--endpoint-url', upload.endpoint, 's3', 'cp', upload.inputFile, `s3://${upload.bucket}/${upload.key}`, '--only-show-errors', '--no-progress'],
        env: {
          ...env,
          AWS_CONFIG_FILE: programs.awsConfigFile,
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_ACCESS_KEY_ID: benchCredentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: benchCredentials.secretAccessKey,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_PAGER: '',
          ...(upload.caFile ? { AWS_CA_BUNDLE: upload.caFile } : {}),
        },
      };
    }
    case 'rclone': {
      if (!programs.rclone || !upload.inputFile) throw new Error('rclone needs the tool and an input file');
      return {
        command: programs.rclone,
        args: [
          'copyto',
          upload.inputFile,
          `bench:${upload.bucket}/${upload.key}`,
          '--config',
          programs.rcloneConfigFile,
          ...(upload.caFile ? ['--ca-cert', upload.caFile] : []),
        ],
        env: {
          ...env,
          RCLONE_CONFIG_BENCH_TYPE: 's3',
          RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
          RCLONE_CONFIG_BENCH_ENDPOINT: upload.endpoint,
          RCLONE_CONFIG_BENCH_REGION: benchCredentials.region,
          RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: benchCredentials.accessKeyId,
          RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: benchCredentials.secretAccessKey,
          RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
        },
      };
    }
  }
}
