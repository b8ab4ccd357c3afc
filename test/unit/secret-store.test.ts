import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
    expect((error as Error).message).toBe("credentials: no stored secret named 'gone'");
  });

  it('fails permanently when the secret is not a JSON object', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '"just a string"' });
    const store = new SecretsManagerStore(new SecretsManagerClient({ region: 'eu-west-1' }), 'p/');

    await expect(store.read('plain')).rejects.toThrow("secret 'plain' must hold a JSON object of fields");
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
    await rm(directory, { recursive: true });
  });
});
