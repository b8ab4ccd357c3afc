import { build } from 'esbuild';
import { join } from 'node:path';
import { functionBuildOptions } from '../../../infra/function-bundle.ts';

export type BundleOutcome =
  | {
      readonly file: string;
      /** Bytes each package (or `(project)`) contributes to the output, largest first. */
      readonly packages: readonly { readonly name: string; readonly bytes: number }[];
    }
  | { readonly error: string };

/** `node_modules/@aws-sdk/client-s3/dist…` → `@aws-sdk/client-s3`; the project's own files → `(project)`. */
function packageOf(input: string): string {
  const parts = input.split('node_modules/');
  if (parts.length < 2) return '(project)';
  const path = (parts[parts.length - 1] ?? '').split('/');
  return path[0]?.startsWith('@') ? `${path[0]}/${path[1] ?? ''}` : (path[0] ?? '?');
}

/** Bundles one entry to `outFile`; a failure (e.g. a module not written yet) is returned, not thrown. */
export async function bundle(entry: string, outFile: string, extra: { packagesExternal?: boolean } = {}): Promise<BundleOutcome> {
  try {
    const result = await build({
      ...functionBuildOptions,
      entryPoints: [entry],
      outfile: outFile,
      metafile: true,
      ...(extra.packagesExternal ? { packages: 'external' as const } : {}),
    });
    const sizes = new Map<string, number>();
    for (const output of Object.values(result.metafile.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const name = packageOf(input);
        sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
      }
    }
    const packages = [...sizes].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
    return { file: outFile, packages };
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
