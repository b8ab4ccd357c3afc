import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Makes and opens data keys under a master key that never leaves its home (KMS, or a local file). */
export interface KeyWrapper {
  newDataKey(context: string): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  unwrap(wrapped: Buffer, context: string): Promise<Buffer>;
}

const version = 'ud2';
/** GCM tags are 16 bytes; a shorter one would be easier to forge, so none is accepted. */
const tagBytes = 16;
/**
 * The master key's context for every data key (KMS's encryption context). What a blob is for (its
 * job, destination and endpoints) is bound by the cipher's additional data instead, so one data key
 * can serve many blobs.
 */
const dataKeyContext = 'upload-destinations/sealed-values';

function encode(parts: readonly Buffer[]): string {
  return [version, ...parts.map((part) => part.toString('base64url'))].join('.');
}

function decode(sealed: string): Buffer[] {
  const [tag, ...parts] = sealed.split('.');
  if (tag !== version || parts.length !== 4) throw new Error('sealed secrets are malformed');
  return parts.map((part) => Buffer.from(part, 'base64url'));
}

/**
 * How long a data key serves, as the AWS Encryption SDK's key caching bounds it: each seal draws a
 * fresh 96-bit IV, far within what AES-GCM allows under one key, and a key held in memory covers
 * only the blobs of its few minutes.
 */
export interface DataKeyReuse {
  /** How long one data key seals, and an opened one stays open, in ms. */
  readonly maxAgeMs: number;
  /** Blobs one data key seals at most. */
  readonly maxSeals: number;
  /** Opened data keys kept at once (the oldest goes first). */
  readonly maxOpenKeys: number;
}

export const defaultDataKeyReuse: DataKeyReuse = { maxAgeMs: 5 * 60_000, maxSeals: 10_000, maxOpenKeys: 64 };

interface SealingKey {
  readonly plaintext: Buffer;
  readonly wrapped: Buffer;
  readonly created: number;
  seals: number;
}

/**
 * Envelope encryption of a destination's secret fields (or any JSON value that must not rest in
 * clear, like a resumable session URI): the value encrypted with AES-256-GCM under a data key, the
 * data key wrapped by the master key. `context` (the job token, destination index, type and
 * endpoints) is bound as additional data, so a sealed blob cannot be moved to another delivery.
 * Data keys are reused for a few minutes (`DataKeyReuse`) on both sides: a delivery then costs the
 * master key (KMS) no request, where it cost two or more, and a burst of jobs stays far below KMS's
 * request quota.
 */
export class EnvelopeSealer {
  private sealing: SealingKey | undefined;
  private pending: Promise<SealingKey> | undefined;
  /** Opened data keys by their wrapped form, oldest first. */
  private readonly opened = new Map<string, { readonly key: Promise<Buffer>; readonly at: number }>();

  public constructor(
    private readonly keys: KeyWrapper,
    private readonly reuse: DataKeyReuse = defaultDataKeyReuse,
    private readonly now: () => number = Date.now,
  ) {}

  public async seal(value: unknown, context: string): Promise<string> {
    const key = await this.sealingKey();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.plaintext, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value)), cipher.final()]);
    return encode([key.wrapped, iv, ciphertext, cipher.getAuthTag()]);
  }

  public async unseal(sealed: string, context: string): Promise<unknown> {
    const [wrapped, iv, ciphertext, tag] = decode(sealed) as [Buffer, Buffer, Buffer, Buffer];
    if (tag.length !== tagBytes) throw new Error('sealed secrets are malformed');
    const key = await this.openKey(wrapped);
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tag);
    return JSON.parse(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString()) as unknown;
  }

  /** The current data key, counted as used once; a new one when it is too old or used up (one request for concurrent seals). */
  private async sealingKey(): Promise<SealingKey> {
    const current = this.sealing;
    if (current && current.seals < this.reuse.maxSeals && this.now() - current.created < this.reuse.maxAgeMs) {
      current.seals += 1;
      return current;
    }
    this.pending ??= this.keys.newDataKey(dataKeyContext).then(
      ({ plaintext, wrapped }) => {
        this.pending = undefined;
        this.sealing = { plaintext, wrapped, created: this.now(), seals: 0 };
        return this.sealing;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    await this.pending;
    return this.sealingKey();
  }

  /** The data key a blob was sealed under, unwrapped once while it is fresh (a failed unwrap is not kept). */
  private openKey(wrapped: Buffer): Promise<Buffer> {
    const id = wrapped.toString('base64url');
    const now = this.now();
    const known = this.opened.get(id);
    if (known && now - known.at < this.reuse.maxAgeMs) return known.key;
    this.opened.delete(id);
    const key = this.keys.unwrap(wrapped, dataKeyContext);
    key.catch(() => this.opened.delete(id));
    this.opened.set(id, { key, at: now });
    for (const oldest of this.opened.keys()) {
      if (this.opened.size <= this.reuse.maxOpenKeys) break;
      this.opened.delete(oldest);
    }
    return key;
  }
}

/**
 * Where the local stand-in for KMS tells each call it answers (`GenerateDataKey`, `Decrypt`), so
 * the local runtime can count what a deployment would ask KMS for (`npm run simulate`). Functions
 * run in worker threads of one process; a broadcast channel reaches across them.
 */
export const localKmsCallsChannel = 'upload-destinations:local-kms-calls';

/** Wraps data keys with a 256-bit master key held in a local file (the local runtime). */
export class LocalKeyWrapper implements KeyWrapper {
  private readonly calls = new BroadcastChannel(localKmsCallsChannel);

  public constructor(private readonly masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error(`the local master key must be 32 bytes, got ${masterKey.length}`);
    // The channel must not keep a function's thread alive.
    (this.calls as unknown as { unref(): void }).unref();
  }

  public async newDataKey(context: string): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    this.calls.postMessage('GenerateDataKey');
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
    cipher.setAAD(Buffer.from(context));
    const wrapped = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { plaintext, wrapped };
  }

  public async unwrap(wrapped: Buffer, context: string): Promise<Buffer> {
    this.calls.postMessage('Decrypt');
    if (wrapped.length < 12 + tagBytes) throw new Error('the wrapped data key is malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.masterKey, wrapped.subarray(0, 12), { authTagLength: tagBytes });
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(wrapped.subarray(wrapped.length - tagBytes));
    return Buffer.concat([decipher.update(wrapped.subarray(12, wrapped.length - tagBytes)), decipher.final()]);
  }
}
