import type { BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** The repository root: where package-lock.json lives and where entry paths start. */
export const repositoryRoot = fileURLToPath(new URL('../', import.meta.url));

const runtimeFile = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

/**
 * How every function is bundled, in esbuild's terms: one minified ES module for Node 22, the AWS SDK
 * clients it imports bundled in (so each function ships only what it uses, at the version the tests
 * ran against). The stack (BundledFunction) and the benchmarks both bundle with this.
 */
export const functionBundle = {
  format: 'esm',
  target: 'node22',
  minify: true,
  mainFields: ['module', 'main'],
  // ESM bundles have no `require`; some dependencies (@azure/storage-blob) still call it for Node
  // built-ins, so the bundle defines one.
  banner: "import { createRequire as topLevelCreateRequire } from 'node:module'; const require = topLevelCreateRequire(import.meta.url);",
  // Native addons cannot ship in a platform-neutral bundle. ssh2 (SFTP) loads its optional ones (its
  // crypto binding, cpu-features) in try/catch and falls back to Node's crypto, so they are bundled as
  // empty modules instead of failing the build; and its CommonJS code reads `__dirname`, which an ES
  // module lacks: it becomes the bundle's folder.
  loader: { '.node': 'empty' },
  define: { __dirname: 'import.meta.dirname' },
  alias: {
    // In Lambda the credentials are in the environment: the rest of the default chain is dead weight.
    '@aws-sdk/credential-provider-node': runtimeFile('shared/lambda/environment-credentials.ts'),
    // SHA-512 from Node's crypto in place of the whole of tweetnacl (see the shim).
    tweetnacl: runtimeFile('shared/lambda/bundle-shims/tweetnacl.cjs'),
    // Built-ins whose ES module form is slow to import (see each shim).
    ...Object.fromEntries(['http', 'process'].flatMap((name) => [name, `node:${name}`].map((specifier) => [specifier, runtimeFile(`shared/lambda/bundle-shims/node-${name}.cjs`)]))),
  },
} as const;

/** `functionBundle` as esbuild's own build options: how the local runtime and the benchmarks bundle a function. */
export const functionBuildOptions: BuildOptions = {
  ...functionBundle,
  mainFields: [...functionBundle.mainFields],
  banner: { js: functionBundle.banner },
  bundle: true,
  platform: 'node',
  logLevel: 'silent',
};
