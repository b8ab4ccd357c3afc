import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../shared/errors.ts';
import { FileSecretStore, SecretsManagerStore } from '../../shared/secrets/secret-store.ts';

describe('Class: SecretsManagerStore', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  afterEach(() => secretsManager.reset());

  it('reads the named secret under the prefix, as fields, and caches it', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"aws_access_key_id":"AKIA","aws_secret_access_key":"s"}' });
    const store = new SecretsManagerStore(new SecretsManagerClient({ region: 'eu-west-1' }), 'upload-destinations/');

    const first = await store.read('team/s3');
    await store.read('team/s3');

    expect(first).toEqual({ aws_access_key_id: 'AKIA', aws_secret_access_key: 's' });
    const calls = secretsManager.commandCalls(GetSecretValueCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.SecretId).toBe('upload-destinations/team/s3');
  });

  it('fails permanently, naming the secret, when it does not exist', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    const store = new SecretsManagerStore(new SecretsManagerClient({ region: 'eu-west-1' }), 'p/');

    const error = await store.read('gone').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toBe("no stored secret named 'gone'");
  });

  it('fails permanently when the secret is not a JSON object', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '"just a string"' });
    const store = new SecretsManagerStore(new SecretsManagerClient({ region: 'eu-west-1' }), 'p/');

    await expect(store.read('plain')).rejects.toThrow("secret 'plain' is not a JSON object");
  });

  it('fails permanently, quoting none of it, when the secret is not JSON at all', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'hunter2-canary{' });
    const store = new SecretsManagerStore(new SecretsManagerClient({ region: 'eu-west-1' }), 'p/');

    const error = await store.read('broken').catch((caught: unknown) => caught as PermanentError);

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe("secret 'broken' is not a JSON object");
    expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toContain('hunter2');
  });

  it('merges updated fields into the current value and reads the new value afterwards', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"refresh_token":"old","account":"a"}' });
    const store = new SecretsManagerStore(new SecretsManagerClient({ region: 'eu-west-1' }), 'p/');
    await store.read('credentials/yt');

    await store.update('credentials/yt', { refresh_token: 'new' });

    const put = secretsManager.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
    expect(put).toEqual({ SecretId: 'p/credentials/yt', SecretString: '{"refresh_token":"new","account":"a"}' });
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: put.SecretString });
    expect(await store.read('credentials/yt')).toEqual({ refresh_token: 'new', account: 'a' });
  });
});

describe('Class: FileSecretStore', () => {
  it('reads named secrets from a JSON file and fails on a missing one', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ud-secrets-'));
    const path = join(directory, 'secrets.json');
    await writeFile(path, JSON.stringify({ 'local-s3': { aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER' } }));
    const store = new FileSecretStore(path);

    expect(await store.read('local-s3')).toEqual({ aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER' });
    await expect(store.read('toString')).rejects.toThrow("no stored secret named 'toString'");
    await store.update('local-s3', { aws_secret_access_key: 'rotated' });
    expect(await new FileSecretStore(path).read('local-s3')).toEqual({ aws_access_key_id: 'S3RVER', aws_secret_access_key: 'rotated' });
    await rm(directory, { recursive: true });
  });

  it('shows an edit of the file at once, and re-reads it only when it changed', async () => {
    // Prepare
    const directory = await mkdtemp(join(tmpdir(), 'ud-secrets-'));
    const path = join(directory, 'secrets.json');
    await writeFile(path, JSON.stringify({ a: { key: 'one' } }));
    const store = new FileSecretStore(path);
    await store.read('a');

    // Act
    await writeFile(path, JSON.stringify({ a: { key: 'two' }, b: { key: 'new' } }));

    // Assess
    expect(await store.read('a')).toEqual({ key: 'two' });
    expect(await store.read('b')).toEqual({ key: 'new' });
    await rm(directory, { recursive: true });
  });

  it('stores new secrets beside the others, making the file when there is none', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ud-secrets-'));
    const path = join(directory, 'secrets.json');
    const store = new FileSecretStore(path);

    await store.put({ a: { key: 'one' }, b: { key: 'two' } });
    await store.put({ b: { key: 'replaced' }, c: 'not JSON, kept as given' });

    expect(await new FileSecretStore(path).read('a')).toEqual({ key: 'one' });
    expect(await new FileSecretStore(path).read('b')).toEqual({ key: 'replaced' });
    await expect(new FileSecretStore(path).read('c')).rejects.toThrow("secret 'c' is not a JSON object");
    expect((await readdir(directory)).sort()).toEqual(['secrets.json']);
    await rm(directory, { recursive: true });
  });

  it('never shows a reader half a file while secrets are written', async () => {
    // Prepare: a file large enough that writing it takes more than one write call.
    const directory = await mkdtemp(join(tmpdir(), 'ud-secrets-'));
    const path = join(directory, 'secrets.json');
    const writer = new FileSecretStore(path);
    await writer.put({ rotating: { token: '0' }, padding: { value: 'x'.repeat(4 * 1024 * 1024) } });
    const failures: unknown[] = [];
    let writing = true;

    // Act: a reader in a loop (a new store each time, so every read reads the file) while tokens rotate.
    const reading = (async () => {
      while (writing) await new FileSecretStore(path).read('rotating').catch((error: unknown) => failures.push(error));
    })();
    for (let round = 1; round <= 30; round += 1) await writer.update('rotating', { token: String(round) });
    writing = false;
    await reading;

    // Assess
    expect(failures).toEqual([]);
    expect(await new FileSecretStore(path).read('rotating')).toEqual({ token: '30' });
    await rm(directory, { recursive: true });
  });

  it('counts the requests Secrets Manager would get under the deployed store’s cache', async () => {
    // Prepare
    const directory = await mkdtemp(join(tmpdir(), 'ud-secrets-'));
    const path = join(directory, 'secrets.json');
    await writeFile(path, JSON.stringify({ a: { key: 'one' }, b: { key: 'two' } }));
    const requests: string[] = [];
    let now = 0;
    const store = new FileSecretStore(path, { onRequest: (action) => requests.push(action), maxAgeSeconds: 300, now: () => now });

    // Act
    await store.read('a');
    await store.read('a');
    await store.read('b');
    now = 299_000;
    await store.read('a');
    const cached = [...requests];
    now = 300_000;
    await store.read('a');
    await store.read('missing').catch(() => undefined);
    await store.read('missing').catch(() => undefined);
    await store.update('b', { key: 'rotated' });
    await store.read('b');

    // Assess
    expect(cached).toEqual(['GetSecretValue', 'GetSecretValue']);
    expect(requests.slice(2)).toEqual(['GetSecretValue', 'GetSecretValue', 'GetSecretValue', 'GetSecretValue', 'PutSecretValue', 'GetSecretValue']);
    expect(await store.read('b')).toEqual({ key: 'rotated' });
    await rm(directory, { recursive: true });
  });
});
