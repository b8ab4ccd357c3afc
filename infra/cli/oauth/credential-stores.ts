import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { secretNames } from '../../../shared/config.ts';
import type { OAuthClient, OAuthProvider } from './consent-flow.ts';

/** Where `npm run authorize` reads the deployment's OAuth client and stores what the consent gave. */
export interface CredentialStore {
  /** The destination's application secret (`application/<type>`: `client_id`, `client_secret`). */
  readClient(type: string, fields?: OAuthProvider['clientFields']): Promise<OAuthClient>;
  /** Writes `credentials/<name>` (replacing it), and says where it went. */
  writeCredentials(name: string, fields: Readonly<Record<string, string>>): Promise<string>;
}

function clientOf(type: string, where: string, stored: Record<string, unknown> | undefined, fields: OAuthProvider['clientFields'] = { id: 'client_id', secret: 'client_secret' }): OAuthClient {
  const clientId = stored?.[fields.id];
  const clientSecret = stored?.[fields.secret];
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string') {
    throw new Error(`no OAuth client in ${where}: store {"${fields.id}": "…", "${fields.secret}": "…"} there first (README: ${type}), or pass --client-id and --client-secret`);
  }
  return { clientId, clientSecret };
}

/** The local runtime's secrets file (`.local/secrets.json`), which `npm start` reads. */
export function localCredentialStore(secretsFile: string): CredentialStore {
  const all = async (): Promise<Record<string, Record<string, unknown>>> =>
    existsSync(secretsFile) ? (JSON.parse(await readFile(secretsFile, 'utf8')) as Record<string, Record<string, unknown>>) : {};
  return {
    async readClient(type, fields) {
      const name = secretNames.application(type);
      return clientOf(type, `${secretsFile} under "${name}"`, (await all())[name], fields);
    },
    async writeCredentials(name, fields) {
      const secrets = await all();
      const key = secretNames.credentials(name);
      secrets[key] = { ...fields };
      await mkdir(dirname(secretsFile), { recursive: true });
      await writeFile(secretsFile, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
      // The mode applies when the file is created; an older file may have been readable by others.
      await chmod(secretsFile, 0o600);
      return `${secretsFile} under "${key}"`;
    },
  };
}

/** AWS Secrets Manager under the deployment's prefix (`upload-destinations/`). */
export function secretsManagerCredentialStore(client: SecretsManagerClient, prefix: string): CredentialStore {
  return {
    async readClient(type, fields) {
      const secretId = `${prefix}${secretNames.application(type)}`;
      try {
        const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
        return clientOf(type, `the secret ${secretId}`, JSON.parse(SecretString ?? '{}') as Record<string, unknown>, fields);
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return clientOf(type, `the secret ${secretId}`, undefined, fields);
        throw error;
      }
    },
    async writeCredentials(name, fields) {
      const secretId = `${prefix}${secretNames.credentials(name)}`;
      const secretString = JSON.stringify(fields);
      try {
        await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: secretString }));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        await client.send(new CreateSecretCommand({ Name: secretId, SecretString: secretString }));
      }
      return `Secrets Manager as ${secretId}`;
    },
  };
}
