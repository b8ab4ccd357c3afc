import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionBuildOptions, repositoryRoot } from '../../infra/function-bundle.ts';
import { requireProgram, runProgram, sshKeygen } from '../support/servers/programs.ts';
import { createTemporaryFolder, type TemporaryFolder } from '../support/servers/temporary-folder.ts';

type CryptoHash = (out: Uint8Array, message: Uint8Array, length: number) => number;

const require = createRequire(import.meta.url);
const shim = require('../../shared/lambda/bundle-shims/tweetnacl.cjs') as { lowlevel: { crypto_hash: CryptoHash } };
// The real one, which bcrypt-pbkdf brings into node_modules.
const tweetnacl = require('tweetnacl') as { lowlevel: { crypto_hash: CryptoHash } };

let folder: TemporaryFolder;

beforeAll(async () => {
  folder = await createTemporaryFolder('bundle-shims');
});

afterAll(async () => {
  await folder.remove();
});

describe('The tweetnacl shim of the function bundles', () => {
  it.each([0, 1, 64, 127, 128, 1000])('hashes the first %i bytes of a longer message as tweetnacl does', (length) => {
    const message = randomBytes(length + 17);
    const ours = new Uint8Array(64);
    const theirs = new Uint8Array(64);

    expect(shim.lowlevel.crypto_hash(ours, message, length)).toBe(0);
    tweetnacl.lowlevel.crypto_hash(theirs, message, length);

    expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(theirs).toString('hex'));
  });

  it('takes tweetnacl’s place in a bundle, where an encrypted OpenSSH key still opens with its passphrase', async () => {
    requireProgram(sshKeygen);
    const key = join(folder.path, 'encrypted-key');
    await runProgram(sshKeygen, ['-q', '-t', 'ed25519', '-a', '4', '-C', '', '-N', 'a passphrase', '-f', key]);
    const entry = `
      import { parseKey } from 'ssh2/lib/protocol/keyParser.js';
      import { readFileSync } from 'node:fs';
      const parsed = parseKey(readFileSync(process.argv[2]), process.argv[3]);
      if (parsed instanceof Error) throw parsed;
      process.stdout.write(parsed.getPublicSSH().toString('base64'));
    `;
    const outfile = join(folder.path, 'parse-key.mjs');
    const result = await build({ ...functionBuildOptions, stdin: { contents: entry, resolveDir: repositoryRoot, loader: 'js' }, outfile, metafile: true });

    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => input.includes('node_modules/tweetnacl/'))).toEqual([]);
    expect(inputs).toContain('shared/lambda/bundle-shims/tweetnacl.cjs');
    const { stdout } = await promisify(execFile)(process.execPath, [outfile, key, 'a passphrase']);
    expect(stdout).toBe((await readFile(`${key}.pub`, 'utf8')).trim().split(' ')[1]);
    await expect(promisify(execFile)(process.execPath, [outfile, key, 'not the passphrase'])).rejects.toThrow(/passphrase|decrypt|integrity/i);
  });
});
