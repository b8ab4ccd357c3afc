import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundle } from '../clients/build.ts';
import { median, MiB } from '../measure/stats.ts';

export interface ColdStartEntry {
  readonly name: string;
  readonly entry: string;
  /** As the stack bundles it: everything in one minified ESM file. */
  readonly bundleBytes: number | undefined;
  readonly importMs: number | undefined;
  /** The naive reference: own code bundled, every package (the whole AWS SDK) loaded from node_modules. */
  readonly naiveImportMs: number | undefined;
  /** The largest contributors to the bundle, for whoever wants it smaller. */
  readonly largestPackages: readonly { readonly name: string; readonly bytes: number }[];
  readonly error?: string;
}

export interface ColdStartResult {
  /** Median wall time of `node -e ''`, subtracted from every import time. */
  readonly bareNodeMs: number | undefined;
  readonly runs: number;
  readonly entries: ColdStartEntry[];
  readonly note: string;
}

/** Every Lambda entry: the ingress and one handler per destination folder. */
async function functionEntries(root: string): Promise<{ name: string; entry: string }[]> {
  const entries: { name: string; entry: string }[] = [];
  const ingress = join(root, 'functions/ingress/handler.ts');
  if (await stat(ingress).then(() => true, () => false)) entries.push({ name: 'ingress', entry: ingress });
  const destinations = join(root, 'functions/destinations');
  for (const folder of (await readdir(destinations, { withFileTypes: true })).filter((item) => item.isDirectory())) {
    const handler = join(destinations, folder.name, 'handler.ts');
    if (await stat(handler).then(() => true, () => false)) entries.push({ name: folder.name, entry: handler });
  }
  return entries;
}

/**
 * Settings the functions read at cold start, as the stack passes them, with dummy values: nothing
 * is called during import, but a missing variable would fail it.
 */
const functionEnvironment: NodeJS.ProcessEnv = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_EC2_METADATA_DISABLED: 'true',
  UD_TABLE_NAME: 'upload-destinations-jobs',
  UD_STAGING_BUCKET: 'upload-destinations-staging',
  UD_KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
  UD_QUEUE_URLS: '{}',
  UD_SECRET_PREFIX: 'upload-destinations/',
};

/** Wall time of one `node` process from spawn to exit, in ms; rejects when it fails. */
async function timeNode(args: readonly string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...functionEnvironment },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4096)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const elapsed = performance.now() - started;
  if (code !== 0) throw new Error(`import failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return elapsed;
}

/** `node -e` importing a module: the module's load and top-level work (its clients) on top of bare Node. */
function importArgs(file: string): string[] {
  return ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(file).href)});`];
}

/**
 * Bundle size and import time of every function, as the stack bundles it, beside the naive build.
 * Bundles go under `buildDirectory` inside the repository, so the naive build resolves packages
 * from the project's node_modules. Runs interleave bare Node, bundled and naive imports, so drift
 * on a shared machine hits all three alike.
 */
export async function measureColdStart(root: string, buildDirectory: string, runs: number, log: (line: string) => void, { naive = true } = {}): Promise<ColdStartResult> {
  const entries = await functionEntries(root);
  const built: { name: string; entry: string; file?: string; naive?: string; bytes?: number; packages?: ColdStartEntry['largestPackages']; error?: string }[] = [];
  for (const { name, entry } of entries) {
    const bundled = await bundle(entry, join(buildDirectory, `${name}.mjs`));
    const naiveBuild = naive ? await bundle(entry, join(buildDirectory, `${name}-naive.mjs`), { packagesExternal: true }) : undefined;
    if ('error' in bundled) {
      built.push({ name, entry, error: bundled.error });
      continue;
    }
    built.push({
      name,
      entry,
      file: bundled.file,
      bytes: (await stat(bundled.file)).size,
      packages: bundled.packages.slice(0, 8),
      ...(naiveBuild && 'file' in naiveBuild ? { naive: naiveBuild.file } : {}),
    });
  }

  const bare: number[] = [];
  const times = new Map<string, { bundled: number[]; naive: number[]; error?: string }>(built.map((item) => [item.name, { bundled: [], naive: [] }]));
  for (let round = 0; round < runs; round += 1) {
    bare.push(await timeNode(['-e', '']));
    for (const item of built) {
      const record = times.get(item.name)!;
      if (!item.file || record.error) continue;
      try {
        record.bundled.push(await timeNode(importArgs(item.file)));
        if (item.naive) record.naive.push(await timeNode(importArgs(item.naive)));
      } catch (error) {
        record.error = (error as Error).message;
        log(`  cold start ${item.name}: ${record.error}`);
      }
    }
  }
  const bareNodeMs = median(bare);
  const over = (values: number[]): number | undefined => {
    const value = median(values);
    return value === undefined || bareNodeMs === undefined ? undefined : value - bareNodeMs;
  };
  const results: ColdStartEntry[] = built.map((item) => {
    const record = times.get(item.name)!;
    const error = item.error ?? record.error;
    return {
      name: item.name,
      entry: relative(root, item.entry),
      bundleBytes: item.bytes,
      importMs: error ? undefined : over(record.bundled),
      naiveImportMs: error ? undefined : over(record.naive),
      largestPackages: item.packages ?? [],
      ...(error ? { error } : {}),
    };
  });
  for (const result of results) {
    log(`  cold start ${result.name}: ${result.bundleBytes === undefined ? '?' : (result.bundleBytes / MiB).toFixed(2)} MiB, +${result.importMs?.toFixed(0) ?? '?'} ms${result.naiveImportMs === undefined ? '' : ` (naive +${result.naiveImportMs.toFixed(0)} ms)`}`);
  }
  return {
    bareNodeMs,
    runs,
    entries: results,
    note: 'import = `node --input-type=module -e "await import(bundle)"` wall time minus `node -e \'\'`, medians; clients constructed at module top level are included, lazily built ones are not',
  };
}
