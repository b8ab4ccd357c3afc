import { randomBytes, randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { PermanentError } from '../errors.ts';
import { isAwsError, type AwsJsonClient } from '../net/aws-json-client.ts';

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
function parseFields(name: string, text: string): SecretFields {
  let value: unknown;
  try {
    value = JSON.parse(text);
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

/** GetSecretValue's answer: the value as text, or as bytes in base64. */
interface SecretValue {
  readonly SecretString?: string;
  readonly SecretBinary?: string;
}

/** A value read, or being read, and when it was asked for. */
interface CachedValue {
  readonly text: Promise<string>;
  readonly at: number;
}

/**
 * AWS Secrets Manager. Names are read under `prefix`, the only names the functions' IAM policies
 * allow. A value read is kept `maxAgeSeconds` per name, across warm invocations, and concurrent
 * reads of a name share one request: a burst of deliveries of one destination asks once. A read
 * that failed is not kept, and an update empties the cache.
 */
export class SecretsManagerStore implements SecretStore {
  private readonly cache = new Map<string, CachedValue>();

  /** @param client a client of Secrets Manager (`secretsManagerService`) */
  public constructor(
    private readonly client: AwsJsonClient,
    private readonly prefix: string,
    private readonly maxAgeSeconds = 300,
    private readonly now: () => number = Date.now,
  ) {}

  public async read(name: string): Promise<SecretFields> {
    return parseFields(name, await this.cachedText(name));
  }

  public async update(name: string, fields: Readonly<Record<string, string>>): Promise<void> {
    // The current value, not the cached one: another function instance may have rotated it.
    const merged = { ...parseFields(name, await this.fetchText(name)), ...fields };
    await this.client.call('PutSecretValue', {
      SecretId: `${this.prefix}${name}`,
      SecretString: JSON.stringify(merged),
      // One token for all the call's tries: a write that landed, its answer lost, is not made twice.
      // Only the SDKs fill it in; a request of our own must carry it.
      ClientRequestToken: randomUUID(),
    });
    this.cache.clear();
  }

  private cachedText(name: string): Promise<string> {
    const now = this.now();
    const cached = this.cache.get(name);
    if (cached && now - cached.at < this.maxAgeSeconds * 1000) return cached.text;
    const entry = { text: this.fetchText(name), at: now };
    this.cache.set(name, entry);
    // A failed read is not kept; a newer read that took its place meanwhile stays.
    entry.text.catch(() => {
      if (this.cache.get(name) === entry) this.cache.delete(name);
    });
    return entry.text;
  }

  /** The stored value's text: a binary one (stored with `--secret-binary`) read as UTF-8. */
  private async fetchText(name: string): Promise<string> {
    let answer: SecretValue;
    try {
      answer = await this.client.call<SecretValue>('GetSecretValue', { SecretId: `${this.prefix}${name}` });
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) throw missing(name, error);
      throw error;
    }
    if (answer.SecretString !== undefined) return answer.SecretString;
    if (answer.SecretBinary !== undefined) return Buffer.from(answer.SecretBinary, 'base64').toString();
    throw missing(name);
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
 * and an unchanged file costs a `stat` per read: a synchronous one, a few microseconds where the
 * promise's round trip through libuv's thread pool took ten times that of the function's CPU.
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
    const { mtimeMs, size } = statSync(this.path);
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
