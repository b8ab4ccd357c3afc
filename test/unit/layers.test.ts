import { build } from 'esbuild';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { destinations } from '../../functions/destinations/registry.ts';
import { functionEntries } from '../../infra/resources.ts';

const eslint = new ESLint();

/** The restricted-import findings lint reports for `code` placed at `filePath`. */
async function crossings(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

describe('Layers that point one way', () => {
  it.each([
    ['shared/ importing a destination', 'shared/example.ts', "import { s3Destination } from '../functions/destinations/s3/schema.ts';"],
    ['shared/ importing infra/', 'shared/delivery/example.ts', "import { resourceNames } from '../../infra/resources.ts';"],
    ['the ingress importing infra/', 'functions/ingress/example.ts', "import { resourceNames } from '../../infra/resources.ts';"],
    ['the ingress importing destination code', 'functions/ingress/example.ts', "import { s3Uploader } from '../destinations/s3/upload.ts';"],
    ['a destination importing another', 'functions/destinations/example/upload.ts', "import { s3Uploader } from '../s3/upload.ts';"],
    ['a destination importing the registry', 'functions/destinations/example/schema.ts', "import { destinations } from '../registry.ts';"],
    ['a destination importing shared code past its entry', 'functions/destinations/example/upload.ts', "import { JobStore } from '../../../shared/jobs/job-store.ts';"],
  ])('lint fails on %s', async (_case, filePath, code) => {
    expect(await crossings(filePath, `${code}\nexport const used = 1;\n`)).toHaveLength(1);
  });

  it.each([
    ['a destination importing the shared entry', 'functions/destinations/example/upload.ts', "import { PermanentError } from '../../../shared/destination/index.ts';"],
    ['a destination importing a file of its own', 'functions/destinations/example/upload.ts', "import { s3ClientFor } from './client.ts';"],
    ['the ingress importing the registry', 'functions/ingress/example.ts', "import { destinations } from '../destinations/registry.ts';"],
    ['infra importing functions and shared', 'infra/example.ts', "import { destinations } from '../functions/destinations/registry.ts';"],
  ])('lint allows %s', async (_case, filePath, code) => {
    expect(await crossings(filePath, `${code}\nexport const used = 1;\n`)).toEqual([]);
  });

  it.each(destinations.map((definition) => definition.type))("bundles the %s function with no other destination's code and no ingress code", async (type) => {
    const { metafile } = await build({
      entryPoints: [functionEntries.destination(type)],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      mainFields: ['module', 'main'],
      // As the stack bundles: native addons (ssh2's optional ones) become empty modules.
      loader: { '.node': 'empty' },
      logLevel: 'silent',
    });

    const ownCode = Object.keys(metafile.inputs).filter((input) => input.startsWith('functions/'));
    expect(ownCode.length).toBeGreaterThan(0);
    expect(ownCode.filter((input) => !input.startsWith(`functions/destinations/${type}/`))).toEqual([]);
  });
});
