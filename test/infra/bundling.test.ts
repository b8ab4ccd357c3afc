import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { destinations } from '../../functions/destinations/registry.ts';
import { synthesizeStack, type SynthesizedStack } from './synthesize.ts';

const run = promisify(execFile);

/** A CloudFormation value as a string, each reference (a queue URL, a table name) a placeholder: nothing is called at load. */
function resolved(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  return join ? join[1].map(resolved).join(join[0]) : 'placeholder';
}
let deployed: SynthesizedStack;
let bundles: { readonly functionId: string; readonly directory: string; readonly environment: Record<string, unknown> }[];

beforeAll(() => {
  deployed = synthesizeStack({}, { bundle: true });
  const functions = deployed.template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs22.x' } });
  bundles = Object.entries(functions).map(([functionId, resource]) => {
    const assetHash = (resource.Properties.Code.S3Key as string).replace(/\.zip$/, '');
    return { functionId, directory: path.join(deployed.app.outdir, `asset.${assetHash}`), environment: resource.Properties.Environment?.Variables ?? {} };
  });
});

describe('Function bundles', () => {
  it('bundles the ingress and each destination function on its own', () => {
    expect(bundles).toHaveLength(destinations.length + 1);
    expect(new Set(bundles.map((bundle) => bundle.directory)).size).toBe(bundles.length);
  });

  it('ships one minified ES module and no source map', () => {
    for (const { functionId, directory } of bundles) {
      expect(readdirSync(directory), functionId).toEqual(['index.mjs']);
      const code = readFileSync(path.join(directory, 'index.mjs'), 'utf8');
      // The banner gives ESM a `require` for dependencies that still call it.
      expect(code.split('\n')[0], functionId).toBe(
        "import { createRequire as topLevelCreateRequire } from 'node:module'; const require = topLevelCreateRequire(import.meta.url);",
      );
      const averageLineLength = code.length / code.split('\n').length;
      expect(averageLineLength, `${functionId} is minified`).toBeGreaterThan(1000);
    }
  });

  it("takes AWS credentials from the environment, as Lambda gives them, without the rest of the SDK's default chain", () => {
    for (const { functionId, directory } of bundles) {
      const code = readFileSync(path.join(directory, 'index.mjs'), 'utf8');
      expect(code, functionId).toContain('Unable to find environment variable credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
      // AWS_CONFIG_FILE: the SDK's profile-file reading, which the environment's keys never need.
      for (const leftOut of ['credential-provider-ini', 'credential-provider-sso', 'credential-provider-web-identity', 'AWS_CONFIG_FILE']) {
        expect(code, `${functionId} leaves out ${leftOut}`).not.toContain(leftOut);
      }
    }
  });

  it("keeps only zod's English messages", () => {
    for (const { functionId, directory } of bundles) {
      const code = readFileSync(path.join(directory, 'index.mjs'), 'utf8');
      // A phrase of zod's German locale: present when every locale is bundled.
      expect(code, functionId).not.toContain('Ungültige Eingabe');
    }
  });

  it('imports nothing but Node built-ins: the AWS SDK clients are bundled, not taken from the runtime', async () => {
    for (const { functionId, directory } of bundles) {
      // Re-bundling with every package external lists what the bundle still imports.
      const { metafile } = await build({
        entryPoints: [path.join(directory, 'index.mjs')],
        bundle: true,
        write: false,
        metafile: true,
        platform: 'node',
        format: 'esm',
        packages: 'external',
        logLevel: 'silent',
      });
      const imports = Object.values(metafile.inputs).flatMap((input) => input.imports.map((imported) => imported.path));
      expect(imports.filter((imported) => !isBuiltin(imported)), functionId).toEqual([]);
    }
  });

  it('load in Node with the settings the stack gives them, and export their handler', async () => {
    for (const { functionId, directory, environment } of bundles) {
      const variables = Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, resolved(value)]));
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pathToFileURL(path.join(directory, 'index.mjs')).href)}); console.log(typeof m.handler);`], {
        env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example', ...variables },
      });
      expect(stdout.trim(), functionId).toBe('function');
    }
  });
});
