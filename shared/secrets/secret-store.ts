import { readFile } from 'node:fs/promises';
import { ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { PermanentError } from '../errors.ts';

/** Stored secrets that `credentials` references name: each a JSON object of a destination's secret fields. */
export interface SecretStore {
  read(name: string): Promise<Record<string, string>>;
}

function asFields(name: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PermanentError(`credentials: secret '${name}' must hold a JSON object of fields`, { code: 'InvalidSecret' });
  }
  return Object.fromEntries(Object.entries(value).map(([field, fieldValue]) => [field, String(fieldValue)]));
}

function missing(name: string, cause?: unknown): PermanentError {
  return new PermanentError(`credentials: no stored secret named '${name}'`, { code: 'SecretNotFound', cause });
}

/**
 * AWS Secrets Manager, through Powertools' provider (which caches values across warm invocations).
 * Names are read under `prefix`, the only names the functions' IAM policies allow.
 */
export class SecretsManagerStore implements SecretStore {
  private readonly provider: SecretsProvider;

  public constructor(
    client: SecretsManagerClient,
    private readonly prefix: string,
    private readonly maxAgeSeconds = 300,
  ) {
    this.provider = new SecretsProvider({ awsSdkV3Client: client });
  }

  public async read(name: string): Promise<Record<string, string>> {
    try {
      const value = await this.provider.get(`${this.prefix}${name}`, { transform: 'json', maxAge: this.maxAgeSeconds });
      if (value === undefined) throw missing(name);
      return asFields(name, value);
    } catch (error) {
      if (error instanceof PermanentError) throw error;
      if (error instanceof ResourceNotFoundException || (error as Error).cause instanceof ResourceNotFoundException) throw missing(name, error);
      throw error;
    }
  }
}

/** A JSON file of `{ "<name>": { field: value } }`: the local runtime's secret store. */
export class FileSecretStore implements SecretStore {
  public constructor(private readonly path: string) {}

  public async read(name: string): Promise<Record<string, string>> {
    const all = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, unknown>;
    if (!Object.hasOwn(all, name)) throw missing(name);
    return asFields(name, all[name]);
  }
}
