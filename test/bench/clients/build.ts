import { build, type BuildOptions } from 'esbuild';
import { join } from 'node:path';

/**
 * Esbuild settings as the stack bundles a function (infra/constructs/bundled-function.ts: ESM,
 * minified, Node 22, module-first main fields, the AWS SDK bundled in), with its banner that gives
 * bundled CommonJS dependencies a `require`.
 */
export const lambdaBundleSettings: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire as topLevelCreateRequire } from 'node:module'; const require = topLevelCreateRequire(import.meta.url);" },
  logLevel: 'silent',
};

export type BundleOutcome = { readonly file: string } | { readonly error: string };

/** Bundles one entry to `outFile`; a failure (e.g. a module not written yet) is returned, not thrown. */
export async function bundle(entry: string, outFile: string, extra: { packagesExternal?: boolean } = {}): Promise<BundleOutcome> {
  try {
    await build({
      ...lambdaBundleSettings,
      entryPoints: [entry],
      outfile: outFile,
      ...(extra.packagesExternal ? { packages: 'external' as const } : {}),
    });
    return { file: outFile };
  } catch (error) {
    const message = (error as { errors?: { text: string; location?: { file: string } | null }[] }).errors
      ?.map((item) => `${item.location?.file ?? entry}: ${item.text}`)
      .join('; ');
    return { error: message || String(error) };
  }
}

export const workerNames = ['ours', 'ours-tuned', 'lib-storage', 'plain-put'] as const;
export type WorkerName = (typeof workerNames)[number];

/** Bundles every Node client worker into `directory`, as a function's code would be shipped. */
export async function buildWorkers(directory: string): Promise<Record<WorkerName, BundleOutcome>> {
  const here = import.meta.dirname;
  const entries = await Promise.all(
    workerNames.map(async (name) => [name, await bundle(join(here, 'workers', `${name}.ts`), join(directory, `${name}.mjs`))] as const),
  );
  return Object.fromEntries(entries) as Record<WorkerName, BundleOutcome>;
}
