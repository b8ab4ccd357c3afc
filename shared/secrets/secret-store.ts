import { readFile, writeFile } from 'node:fs/promises';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { PermanentError } from '../errors.ts';

/** A stored secret: a JSON object of fields (a destination's secret fields, a signing key, an OAuth client). */
export type SecretFields = Readonly<Record<string, unknown>>;

/** Stored secrets, by name under the deployment's secret prefix. */
export interface SecretStore {
  read(name: string): Promise<SecretFields>;
  /** Merges `fields` into the stored secret (a rotated refresh token), keeping its other fields. */
  update(name: string, fields: Readonly<Record<string, string>>): Promise<void>;
}

/**
 * The secret's text as a JSON object. A secret that is not one fails for good, and the message
 * never quotes the text (the parser's own message would show its first characters).
 */
function parseFields(name: string, text: string | undefined): SecretFields {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PermanentError(`secret '${name}' is not a JSON object`, { code: 'InvalidSecret' });
  }
  return value as SecretFields;
}

function missing(name: string, cause?: unknown): PermanentError {
  return new PermanentError(`no stored secret named '${name}'`, { code: 'SecretNotFound', cause });
}

/**
 * AWS Secrets Manager, through Powertools' provider (which caches values across warm invocations).
 * Names are read under `prefix`, the only names the functions' IAM policies allow.
 */
export class SecretsManagerStore implements SecretStore {
  private readonly provider: SecretsProvider;

  public constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
    private readonly maxAgeSeconds = 300,
  ) {
    this.provider = new SecretsProvider({ awsSdkV3Client: client });
  }

  public async read(name: string): Promise<SecretFields> {
    let text: string | undefined;
    try {
      const value = await this.provider.get(`${this.prefix}${name}`, { maxAge: this.maxAgeSeconds });
      if (value === undefined) throw missing(name);
      text = typeof value === 'string' ? value : Buffer.from(value).toString();
    } catch (error) {
      if (error instanceof PermanentError) throw error;
      if (error instanceof ResourceNotFoundException || (error as Error).cause instanceof ResourceNotFoundException) throw missing(name, error);
      throw error;
    }
    return parseFields(name, text);
  }

  public async update(name: string, fields: Readonly<Record<string, string>>): Promise<void> {
    const secretId = `${this.prefix}${name}`;
    // The current value, not the cached one: another function instance may have rotated it.
    const current = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }));
    const merged = { ...parseFields(name, current.SecretString), ...fields };
    await this.client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(merged) }));
    this.provider.clearCache();
  }
}

/** A JSON file of `{ "<name>": { field: value } }`: the local runtime's secret store. */
export class FileSecretStore implements SecretStore {
  public constructor(private readonly path: string) {}

  private async all(): Promise<Record<string, unknown>> {
    return JSON.parse(await readFile(this.path, 'utf8')) as Record<string, unknown>;
  }

  public async read(name: string): Promise<SecretFields> {
    const all = await this.all();
    if (!Object.hasOwn(all, name)) throw missing(name);
    const value = all[name];
    return parseFields(name, typeof value === 'string' ? value : JSON.stringify(value));
  }

  public async update(name: string, fields: Readonly<Record<string, string>>): Promise<void> {
    const all = await this.all();
    all[name] = { ...(await this.read(name)), ...fields };
    await writeFile(this.path, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  }
}
