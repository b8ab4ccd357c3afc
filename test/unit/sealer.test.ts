import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsJsonClient, isAwsError, kmsService } from '../../shared/net/aws-json-client.ts';
import { KmsKeyWrapper } from '../../shared/secrets/kms-key-wrapper.ts';
import { sealingContext } from '../../shared/contract/message.ts';
import { EnvelopeSealer, LocalKeyWrapper, type KeyWrapper } from '../../shared/secrets/sealer.ts';
import { startTestKms, type TestKms } from '../support/servers/kms-and-secrets-manager.ts';

const secrets = { aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

describe('Class: EnvelopeSealer', () => {
  const sealer = new EnvelopeSealer(new LocalKeyWrapper(randomBytes(32)));

  it('opens what it sealed, for the same delivery', async () => {
    const sealed = await sealer.seal(secrets, 'ud_abc#0');

    expect(await sealer.unseal(sealed, 'ud_abc#0')).toEqual(secrets);
  });

  it('keeps no secret readable in the sealed text', async () => {
    const sealed = await sealer.seal(secrets, 'ud_abc#0');

    expect(sealed).toMatch(/^ud2\./);
    expect(sealed).not.toContain('wJalrXUtnFEMI');
    expect(Buffer.from(sealed.split('.').slice(1).join(''), 'base64url').toString('latin1')).not.toContain('EXAMPLEKEY');
  });

  it('fails when the blob is moved to another delivery', async () => {
    const sealed = await sealer.seal(secrets, 'ud_abc#0');

    await expect(sealer.unseal(sealed, 'ud_abc#1')).rejects.toThrow();
  });

  it('fails when the blob was tampered with', async () => {
    const parts = (await sealer.seal(secrets, 'ud_abc#0')).split('.');
    const ciphertext = Buffer.from(parts[3]!, 'base64url');
    ciphertext[0]! ^= 1;
    parts[3] = ciphertext.toString('base64url');

    await expect(sealer.unseal(parts.join('.'), 'ud_abc#0')).rejects.toThrow();
  });

  it('fails on a blob under another master key', async () => {
    const other = new EnvelopeSealer(new LocalKeyWrapper(randomBytes(32)));

    await expect(other.unseal(await sealer.seal(secrets, 'c'), 'c')).rejects.toThrow();
  });

  it('refuses a local master key of the wrong size', () => {
    expect(() => new LocalKeyWrapper(randomBytes(16))).toThrow('must be 32 bytes, got 16');
  });
});

describe('Class: KmsKeyWrapper', () => {
  const keyId = 'alias/upload-destinations';
  const purpose = 'upload-destinations/sealed-values';
  let kms: TestKms;
  beforeEach(async () => {
    kms = await startTestKms(keyId);
  });
  afterEach(() => kms.close());

  /** A wrapper of its own client, as each function instance has. */
  const kmsKeyWrapper = () => new KmsKeyWrapper(new AwsJsonClient(kmsService, kms.settings), keyId);

  it('asks KMS for AES-256 data keys under the purpose context, and decrypts with the same context', async () => {
    // Prepare
    const sealer = new EnvelopeSealer(kmsKeyWrapper());
    const opener = new EnvelopeSealer(kmsKeyWrapper());

    // Act
    const sealed = await sealer.seal(secrets, 'ud_x#2');
    const opened = await opener.unseal(sealed, 'ud_x#2');

    // Assess: the blob carries the data key as KMS wrapped it, and that is what KMS is asked to decrypt.
    expect(opened).toEqual(secrets);
    expect(kms.requests.map(({ action, input }) => ({ action, input }))).toEqual([
      { action: 'GenerateDataKey', input: { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { purpose } } },
      { action: 'Decrypt', input: { KeyId: keyId, CiphertextBlob: Buffer.from(sealed.split('.')[1]!, 'base64url').toString('base64'), EncryptionContext: { purpose } } },
    ]);
  });

  it('fails to unwrap a data key under another context, as KMS refuses it', async () => {
    // Prepare
    const wrapper = kmsKeyWrapper();
    const { plaintext, wrapped } = await wrapper.newDataKey(purpose);

    // Act
    const unwrapping = wrapper.unwrap(wrapped, 'upload-destinations/other');

    // Assess
    const error = await unwrapping.catch((caught: unknown) => caught);
    expect(isAwsError(error, 'InvalidCiphertextException')).toBe(true);
    expect(await wrapper.unwrap(wrapped, purpose)).toEqual(plaintext);
  });
});

/** A key wrapper that counts what it is asked for, as KMS would bill it. */
function countingWrapper() {
  const inner = new LocalKeyWrapper(randomBytes(32));
  const calls = { newDataKey: 0, unwrap: 0 };
  const wrapper: KeyWrapper = {
    newDataKey: (context) => {
      calls.newDataKey += 1;
      return inner.newDataKey(context);
    },
    unwrap: (wrapped, context) => {
      calls.unwrap += 1;
      return inner.unwrap(wrapped, context);
    },
  };
  return { wrapper, calls };
}

describe('Class: EnvelopeSealer, data keys reused for a while', () => {
  const reuse = { maxAgeMs: 60_000, maxSeals: 3, maxOpenKeys: 2 };

  it('seals many blobs under one data key until it has sealed its share, each with its own IV, and each still bound to its delivery', async () => {
    const { wrapper, calls } = countingWrapper();
    const sealer = new EnvelopeSealer(wrapper, reuse);

    const sealed = await Promise.all(['ud_a#0', 'ud_b#0', 'ud_c#0', 'ud_d#0'].map((context) => sealer.seal(secrets, context)));

    expect(calls.newDataKey).toBe(2);
    const wrappedKeys = sealed.map((blob) => blob.split('.')[1]);
    expect(new Set(wrappedKeys.slice(0, 3)).size).toBe(1);
    expect(wrappedKeys[3]).not.toBe(wrappedKeys[0]);
    expect(new Set(sealed.map((blob) => blob.split('.')[2])).size).toBe(4);
    await expect(sealer.unseal(sealed[0]!, 'ud_b#0')).rejects.toThrow();
  });

  it('takes a new data key once the current one is older than its age', async () => {
    const { wrapper, calls } = countingWrapper();
    let now = 0;
    const sealer = new EnvelopeSealer(wrapper, reuse, () => now);

    await sealer.seal(secrets, 'ud_a#0');
    now = 59_999;
    await sealer.seal(secrets, 'ud_a#0');
    now = 60_000;
    await sealer.seal(secrets, 'ud_a#0');

    expect(calls.newDataKey).toBe(2);
  });

  it('unwraps a data key once for every blob sealed under it, while it is fresh, keeping only so many', async () => {
    const { wrapper, calls } = countingWrapper();
    let now = 0;
    const sealer = new EnvelopeSealer(wrapper, reuse, () => now);
    const opener = new EnvelopeSealer(wrapper, reuse, () => now);
    const first = await Promise.all(['ud_a#0', 'ud_b#0', 'ud_c#0'].map((context) => sealer.seal({ context }, context)));
    const second = await sealer.seal({ context: 'ud_d#0' }, 'ud_d#0');
    const third = await Promise.all(['ud_e#0', 'ud_f#0', 'ud_g#0'].map((context) => sealer.seal({ context }, context)));

    expect(await Promise.all(first.map((blob, index) => opener.unseal(blob, `ud_${'abc'[index]}#0`)))).toEqual([{ context: 'ud_a#0' }, { context: 'ud_b#0' }, { context: 'ud_c#0' }]);
    expect(calls.unwrap).toBe(1);
    // The fourth and fifth blobs share the second data key (three seals each); the seventh has a third.
    await opener.unseal(second, 'ud_d#0');
    await opener.unseal(third[0]!, 'ud_e#0');
    expect(calls.unwrap).toBe(2);
    await opener.unseal(third[2]!, 'ud_g#0');
    expect(calls.unwrap).toBe(3);
    // Two keys are kept: the first one's was let go.
    await opener.unseal(first[0]!, 'ud_a#0');
    expect(calls.unwrap).toBe(4);
    now = 60_000;
    await opener.unseal(first[0]!, 'ud_a#0');
    expect(calls.unwrap).toBe(5);
  });

  it('asks again after a failed request for a data key', async () => {
    const { wrapper, calls } = countingWrapper();
    let failing = true;
    const flaky: KeyWrapper = { ...wrapper, newDataKey: (context) => (failing ? Promise.reject(new Error('throttled')) : wrapper.newDataKey(context)) };
    const sealer = new EnvelopeSealer(flaky, reuse);

    await expect(sealer.seal(secrets, 'ud_a#0')).rejects.toThrow('throttled');
    failing = false;

    expect(await sealer.unseal(await sealer.seal(secrets, 'ud_a#0'), 'ud_a#0')).toEqual(secrets);
    expect(calls.newDataKey).toBe(1);
  });
});

describe('Function: sealingContext', () => {
  const delivery = { token: 'ud_abc', index: 0, type: 's3', endpoints: ['https://minio.example.com'] };

  it('binds a blob to where the secrets go, not only to the job and destination', async () => {
    const sealer = new EnvelopeSealer(new LocalKeyWrapper(randomBytes(32)));
    const sealed = await sealer.seal(secrets, sealingContext(delivery));

    await expect(sealer.unseal(sealed, sealingContext({ ...delivery, endpoints: ['https://attacker.example'] }))).rejects.toThrow();
    await expect(sealer.unseal(sealed, sealingContext({ ...delivery, type: 'http' }))).rejects.toThrow();
    expect(await sealer.unseal(sealed, sealingContext({ ...delivery }))).toEqual(secrets);
  });
});

describe('Class: EnvelopeSealer, forged tags', () => {
  it('refuses a blob whose GCM tag was cut short', async () => {
    const sealer = new EnvelopeSealer(new LocalKeyWrapper(randomBytes(32)));
    const parts = (await sealer.seal(secrets, 'ud_abc#0')).split('.');
    parts[4] = Buffer.from(parts[4]!, 'base64url').subarray(0, 4).toString('base64url');

    await expect(sealer.unseal(parts.join('.'), 'ud_abc#0')).rejects.toThrow('sealed secrets are malformed');
  });
});
