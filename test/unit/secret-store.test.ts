import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../shared/errors.ts';
import { AwsJsonClient, isAwsError, secretsManagerService } from '../../shared/net/aws-json-client.ts';
import { FileSecretStore, SecretsManagerStore } from '../../shared/secrets/secret-store.ts';
import { internalFailure, startTestSecretsManager, throttling, type TestSecretsManager } from '../support/servers/kms-and-secrets-manager.ts';

describe('Class: SecretsManagerStore', () => {
  let secretsManager: TestSecretsManager;
  beforeEach(async () => {
    secretsManager = await startTestSecretsManager();
  });
  afterEach(() => secretsManager.close());

  /** A store of the stand-in's secrets under `prefix`, as a function instance has one. */
  const storeUnder = (prefix: string, options: { maxAgeSeconds?: number; now?: () => number; maxAttempts?: number } = {}) =>
    new SecretsManagerStore(new AwsJsonClient(secretsManagerService, { ...secretsManager.settings, maxAttempts: options.maxAttempts }), prefix, options.maxAgeSeconds, options.now);
  const requestsOf = (action: string) => secretsManager.requests.filter((request) => request.action === action);

  it('reads the named secret under the prefix, as fields, and caches it', async () => {
    // Prepare
    secretsManager.store('upload-destinations/team/s3', '{"aws_access_key_id":"AKIA","aws_secret_access_key":"s"}');
    const store = storeUnder('upload-destinations/');

    // Act
    const first = await store.read('team/s3');
    const second = await store.read('team/s3');

    // Assess
    expect(first).toEqual({ aws_access_key_id: 'AKIA', aws_secret_access_key: 's' });
    expect(second).toEqual(first);
    expect(requestsOf('GetSecretValue').map(({ input }) => input)).toEqual([{ SecretId: 'upload-destinations/team/s3' }]);
  });

  it('sends one request for concurrent reads of a name', async () => {
    // Prepare
    secretsManager.store('p/team/s3', '{"key":"one"}');
    const store = storeUnder('p/');

    // Act
    const both = await Promise.all([store.read('team/s3'), store.read('team/s3')]);

    // Assess
    expect(both).toEqual([{ key: 'one' }, { key: 'one' }]);
    expect(requestsOf('GetSecretValue')).toHaveLength(1);
  });

  it('reads a name again once its value is maxAgeSeconds old, seeing a rotated value then', async () => {
    // Prepare
    let now = 0;
    secretsManager.store('p/team/s3', '{"key":"one"}');
    const store = storeUnder('p/', { maxAgeSeconds: 60, now: () => now });
    await store.read('team/s3');
    secretsManager.store('p/team/s3', '{"key":"rotated"}');

    // Act
    now = 59_999;
    const cached = await store.read('team/s3');
    now = 60_000;
    const fresh = await store.read('team/s3');

    // Assess
    expect(cached).toEqual({ key: 'one' });
    expect(fresh).toEqual({ key: 'rotated' });
    expect(requestsOf('GetSecretValue')).toHaveLength(2);
  });

  it('reads a binary secret as its text', async () => {
    // Prepare
    secretsManager.store('p/binary', Buffer.from('{"key":"from bytes"}'));

    // Act
    const fields = await storeUnder('p/').read('binary');

    // Assess
    expect(fields).toEqual({ key: 'from bytes' });
  });

  it('fails permanently, naming the secret and quoting no stored value, when it does not exist', async () => {
    // Prepare: the name exists under another prefix only.
    secretsManager.store('other/gone', '{"password":"hunter2-canary"}');
    const store = storeUnder('p/');

    // Act
    const error = await store.read('gone').catch((caught: unknown) => caught as PermanentError);

    // Assess
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe("no stored secret named 'gone'");
    expect(error.code).toBe('SecretNotFound');
    expect(isAwsError(error.cause, 'ResourceNotFoundException')).toBe(true);
    expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toContain('hunter2');
  });

  it('asks again after a failed read instead of keeping the failure', async () => {
    // Prepare
    const store = storeUnder('p/');
    await expect(store.read('later')).rejects.toThrow("no stored secret named 'later'");
    secretsManager.store('p/later', '{"key":"stored since"}');

    // Act
    const fields = await store.read('later');

    // Assess
    expect(fields).toEqual({ key: 'stored since' });
    expect(requestsOf('GetSecretValue')).toHaveLength(2);
  });

  it('tries a throttled read again until Secrets Manager answers', async () => {
    // Prepare
    secretsManager.store('p/team/s3', '{"key":"one"}');
    secretsManager.failNext(throttling, throttling);

    // Act
    const fields = await storeUnder('p/').read('team/s3');

    // Assess
    expect(fields).toEqual({ key: 'one' });
    expect(requestsOf('GetSecretValue')).toHaveLength(3);
  });

  it("fails for now, not for good, when Secrets Manager's own trouble outlasts the tries", async () => {
    // Prepare
    secretsManager.store('p/team/s3', '{"key":"one"}');
    secretsManager.failNext(internalFailure, internalFailure);

    // Act
    const error = await storeUnder('p/', { maxAttempts: 2 })
      .read('team/s3')
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).not.toBeInstanceOf(PermanentError);
    expect(isAwsError(error, 'InternalFailure')).toBe(true);
    expect(requestsOf('GetSecretValue')).toHaveLength(2);
  });

  it('fails permanently when the secret is not a JSON object', async () => {
    // Prepare
    secretsManager.store('p/plain', '"just a string"');

    // Act
    const reading = storeUnder('p/').read('plain');

    // Assess
    await expect(reading).rejects.toThrow("secret 'plain' is not a JSON object");
  });

  it('fails permanently, quoting none of it, when the secret is not JSON at all', async () => {
    // Prepare
    secretsManager.store('p/broken', 'hunter2-canary{');

    // Act
    const error = await storeUnder('p/')
      .read('broken')
      .catch((caught: unknown) => caught as PermanentError);

    // Assess
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe("secret 'broken' is not a JSON object");
    expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toContain('hunter2');
  });

  it('merges updated fields into the current value, not the cached one, and reads the new value afterwards', async () => {
    // Prepare: after this instance read the secret, another one added a field.
    secretsManager.store('p/credentials/yt', '{"refresh_token":"old","account":"a"}');
    const store = storeUnder('p/');
    await store.read('credentials/yt');
    secretsManager.store('p/credentials/yt', '{"refresh_token":"old","account":"a","scope":"upload"}');

    // Act
    await store.update('credentials/yt', { refresh_token: 'new' });

    // Assess
    const merged = '{"refresh_token":"new","account":"a","scope":"upload"}';
    expect(requestsOf('PutSecretValue').map(({ input }) => input)).toEqual([
      { SecretId: 'p/credentials/yt', SecretString: merged, ClientRequestToken: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    ]);
    expect(secretsManager.current('p/credentials/yt')).toBe(merged);
    expect(await store.read('credentials/yt')).toEqual({ refresh_token: 'new', account: 'a', scope: 'upload' });
  });

  it('fails permanently to update a secret that does not exist, writing nothing', async () => {
    // Act
    const updating = storeUnder('p/').update('gone', { refresh_token: 'new' });

    // Assess
    await expect(updating).rejects.toThrow(new PermanentError("no stored secret named 'gone'", { code: 'SecretNotFound' }));
    expect(requestsOf('PutSecretValue')).toEqual([]);
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
