import { readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryRoot } from '../../infra/function-bundle.ts';
import { bundleFunctions } from '../../infra/local/function-bundles.ts';
import { LocalFunction } from '../../infra/local/local-function.ts';
import { createTemporaryFolder, type TemporaryFolder } from '../support/servers/temporary-folder.ts';

let folder: TemporaryFolder;
let entry: string;

beforeAll(async () => {
  folder = await createTemporaryFolder('function-bundles');
  // A handler in two TypeScript modules that answers with the stack of an error thrown in the second.
  await writeFile(join(folder.path, 'fail.ts'), 'export function fail(message: string): never {\n  throw new Error(message);\n}\n');
  await writeFile(
    join(folder.path, 'handler.ts'),
    "import { fail } from './fail.ts';\n\nexport const handler = async (): Promise<{ stack: string }> => {\n  try {\n    return fail('from the source');\n  } catch (error) {\n    return { stack: (error as Error).stack ?? '' };\n  }\n};\n",
  );
  entry = relative(repositoryRoot, join(folder.path, 'handler.ts'));
});

afterAll(async () => {
  await folder.remove();
});

describe('bundleFunctions', () => {
  it('bundles each function into one module whose stack traces, in a local function’s thread, name the TypeScript sources', async () => {
    // Prepare
    const output = join(folder.path, 'functions');

    // Act
    const modules = await bundleFunctions({ probe: entry }, output);
    const probe = await LocalFunction.start({ entry: modules.probe!, functionName: 'probe', timeoutSeconds: 5, environment: {} });
    const answer = await probe.invoke<{ stack: string }>({}).finally(() => probe.stop());

    // Assess
    expect((await readdir(output)).sort()).toEqual(['probe.mjs', 'probe.mjs.map']);
    expect(answer.stack).toMatch(/fail\.ts:2:\d+/);
    expect(answer.stack).toMatch(/handler\.ts:5:\d+/);
  });

  it('names the function and its entry when one does not bundle, with esbuild’s error as the cause', async () => {
    // Act
    const bundling = bundleFunctions({ probe: entry, missing: 'functions/missing/handler.ts' }, join(folder.path, 'broken'));

    // Assess
    const error = (await bundling.catch((failure: unknown) => failure)) as Error;
    expect(error.message).toBe('bundling the missing function (functions/missing/handler.ts) failed');
    expect(String((error.cause as Error).message)).toContain('functions/missing/handler.ts');
    // The failure is reported once the other builds are done, not while they still write.
    expect((await readdir(join(folder.path, 'broken'))).sort()).toEqual(['probe.mjs', 'probe.mjs.map']);
  });
});
