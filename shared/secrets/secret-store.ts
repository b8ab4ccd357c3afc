import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
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

/** The Secrets Manager requests a local store counts in their place. */
export type SecretsManagerAction = 'GetSecretValue' | 'PutSecretValue';

/**
 * Where the local secret store tells each Secrets Manager request it stands in for, so the local
 * runtime can count them beside KMS's (`localKmsCallsChannel`): functions are threads of one process.
 */
export const localSecretsManagerCallsChannel = 'upload-destinations:local-secrets-manager-calls';

export interface FileSecretStoreOptions {
  /**
   * Told each request Secrets Manager would be asked in this store's place, under the deployed
   * store's cache (`SecretsManagerStore`: a value read is kept `maxAgeSeconds` per name and
   * function instance; a missing one is not kept; an update reads, writes and empties the cache).
   */
  readonly onRequest?: (action: SecretsManagerAction) => void;
  /** @default 300, as `SecretsManagerStore` */
  readonly maxAgeSeconds?: number;
  readonly now?: () => number;
}

/**
 * Writes the secrets file whole, beside it first and then renamed over it: functions in other
 * threads read it at any moment, and a read while it is being written would find half a file.
 */
async function writeSecretsFile(path: string, all: Readonly<Record<string, unknown>>): Promise<void> {
  const beside = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(beside, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  await rename(beside, path);
}

/**
 * A JSON file of `{ "<name>": { field: value } }`: the local runtime's secret store. The file is
 * read again only when it has changed (its size or modification time), so an edit shows at once
 * and an unchanged file costs a `stat` per read.
 */
export class FileSecretStore implements SecretStore {
  private contents: { readonly mtimeMs: number; readonly size: number; readonly all: Record<string, unknown> } | undefined;
  /** When the deployed store would have fetched each name, for `onRequest`. */
  private readonly fetchedAt = new Map<string, number>();

  public constructor(
    private readonly path: string,
    private readonly options: FileSecretStoreOptions = {},
  ) {}

  private async all(): Promise<Record<string, unknown>> {
    const { mtimeMs, size } = await stat(this.path);
    if (this.contents?.mtimeMs !== mtimeMs || this.contents.size !== size) {
      this.contents = { mtimeMs, size, all: JSON.parse(await readFile(this.path, 'utf8')) as Record<string, unknown> };
    }
    return this.contents.all;
  }

  /** Counts the GetSecretValue the deployed store would send for `name` now. */
  private countRead(name: string): void {
    const now = (this.options.now ?? Date.now)();
    const at = this.fetchedAt.get(name);
    if (at !== undefined && now - at < (this.options.maxAgeSeconds ?? 300) * 1000) return;
    this.options.onRequest?.('GetSecretValue');
    this.fetchedAt.set(name, now);
  }

  public async read(name: string): Promise<SecretFields> {
    this.countRead(name);
    const all = await this.all();
    if (!Object.hasOwn(all, name)) {
      this.fetchedAt.delete(name);
      throw missing(name);
    }
    const value = all[name];
    return parseFields(name, typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** Stores `entries` beside the others (a name given again is replaced), as an operator would; a file that does not exist yet is made. */
  public async put(entries: Readonly<Record<string, unknown>>): Promise<void> {
    const all = await this.all().catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return {};
      throw error;
    });
    await writeSecretsFile(this.path, { ...all, ...entries });
  }

  public async update(name: string, fields: Readonly<Record<string, string>>): Promise<void> {
    const all = { ...(await this.all()) };
    if (!Object.hasOwn(all, name)) throw missing(name);
    const current = all[name];
    all[name] = { ...parseFields(name, typeof current === 'string' ? current : JSON.stringify(current)), ...fields };
    this.options.onRequest?.('GetSecretValue');
    await writeSecretsFile(this.path, all);
    this.options.onRequest?.('PutSecretValue');
    this.fetchedAt.clear();
  }
}
