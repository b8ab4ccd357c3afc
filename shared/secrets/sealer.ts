import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Makes and opens data keys under a master key that never leaves its home (KMS, or a local file). */
export interface KeyWrapper {
  newDataKey(context: string): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  unwrap(wrapped: Buffer, context: string): Promise<Buffer>;
}

const version = 'ud1';
/** GCM tags are 16 bytes; a shorter one would be easier to forge, so none is accepted. */
const tagBytes = 16;

function encode(parts: readonly Buffer[]): string {
  return [version, ...parts.map((part) => part.toString('base64url'))].join('.');
}

function decode(sealed: string): Buffer[] {
  const [tag, ...parts] = sealed.split('.');
  if (tag !== version || parts.length !== 4) throw new Error('sealed secrets are malformed');
  return parts.map((part) => Buffer.from(part, 'base64url'));
}

/**
 * Envelope encryption of a destination's secret fields (or any JSON value that must not rest in
 * clear, like a resumable session URI): a fresh AES-256 data key per seal, the value encrypted
 * with AES-256-GCM under it, the data key wrapped by the master key. `context` (the job token and
 * destination index) is bound as additional data, so a sealed blob cannot be moved to another
 * delivery.
 */
export class EnvelopeSealer {
  public constructor(private readonly keys: KeyWrapper) {}

  public async seal(value: unknown, context: string): Promise<string> {
    const { plaintext, wrapped } = await this.keys.newDataKey(context);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', plaintext, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value)), cipher.final()]);
    plaintext.fill(0);
    return encode([wrapped, iv, ciphertext, cipher.getAuthTag()]);
  }

  public async unseal(sealed: string, context: string): Promise<unknown> {
    const [wrapped, iv, ciphertext, tag] = decode(sealed) as [Buffer, Buffer, Buffer, Buffer];
    if (tag.length !== tagBytes) throw new Error('sealed secrets are malformed');
    const key = await this.keys.unwrap(wrapped, context);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(tag);
      return JSON.parse(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString()) as unknown;
    } finally {
      key.fill(0);
    }
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
