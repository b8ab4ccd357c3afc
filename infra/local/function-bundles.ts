import { build } from 'esbuild';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { functionBuildOptions, repositoryRoot } from '../function-bundle.ts';

/**
 * Bundles functions as the stack ships them (`functionBuildOptions`), all at once, into `directory`:
 * the local runtime then runs the code Lambda would run, and a function's thread starts by loading
 * one module instead of compiling the project's TypeScript file by file. Source maps (linked, and
 * read by the function threads) keep stack traces pointing at the sources. Resolves to each name's
 * module URL; `entries` maps names to entry paths from the repository root.
 */
export async function bundleFunctions(entries: Readonly<Record<string, string>>, directory: string): Promise<Record<string, string>> {
  // Every build is let finish before a failure is reported: one still writing into `directory`
  // would race whoever cleans it up after the failure.
  const outcomes = await Promise.allSettled(
    Object.entries(entries).map(async ([name, entry]) => {
      const outfile = join(directory, `${name}.mjs`);
      try {
        await build({ ...functionBuildOptions, entryPoints: [join(repositoryRoot, entry)], outfile, sourcemap: 'linked' });
      } catch (error) {
        throw new Error(`bundling the ${name} function (${entry}) failed`, { cause: error });
      }
      return [name, pathToFileURL(outfile).href] as const;
    }),
  );
  const bundled: (readonly [string, string])[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') throw outcome.reason;
    bundled.push(outcome.value);
  }
  return Object.fromEntries(bundled);
}
