import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KmsKeyWrapper } from '../../shared/secrets/kms-key-wrapper.ts';
import { sealingContext } from '../../shared/contract/message.ts';
import { EnvelopeSealer, LocalKeyWrapper } from '../../shared/secrets/sealer.ts';

const secrets = { aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

describe('Class: EnvelopeSealer', () => {
  const sealer = new EnvelopeSealer(new LocalKeyWrapper(randomBytes(32)));

  it('opens what it sealed, for the same delivery', async () => {
    const sealed = await sealer.seal(secrets, 'ud_abc#0');

    expect(await sealer.unseal(sealed, 'ud_abc#0')).toEqual(secrets);
  });

  it('keeps no secret readable in the sealed text', async () => {
    const sealed = await sealer.seal(secrets, 'ud_abc#0');

    expect(sealed).toMatch(/^ud1\./);
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
  it('asks KMS for an AES-256 data key bound to the delivery, and decrypts with the same context', async () => {
    // Prepare: KMS has no local server; the mock plays a KMS that wraps keys with a fixed local key.
    const kms = mockClient(KMSClient);
    const wrapping = new LocalKeyWrapper(randomBytes(32));
    kms.on(GenerateDataKeyCommand).callsFake(async (input: { EncryptionContext: { delivery: string } }) => {
      const key = await wrapping.newDataKey(input.EncryptionContext.delivery);
      return { Plaintext: key.plaintext, CiphertextBlob: key.wrapped, KeyId: 'key-1' };
    });
    kms.on(DecryptCommand).callsFake(async (input: { CiphertextBlob: Uint8Array; EncryptionContext: { delivery: string } }) => ({
      Plaintext: await wrapping.unwrap(Buffer.from(input.CiphertextBlob), input.EncryptionContext.delivery),
    }));
    const sealer = new EnvelopeSealer(new KmsKeyWrapper(new KMSClient({ region: 'eu-west-1' }), 'alias/upload-destinations'));

    // Act
    const opened = await sealer.unseal(await sealer.seal(secrets, 'ud_x#2'), 'ud_x#2');

    // Assess
    expect(opened).toEqual(secrets);
    expect(kms.commandCalls(GenerateDataKeyCommand)[0]!.args[0].input).toEqual({
      KeyId: 'alias/upload-destinations',
      KeySpec: 'AES_256',
      EncryptionContext: { delivery: 'ud_x#2' },
    });
    expect(kms.commandCalls(DecryptCommand)[0]!.args[0].input).toMatchObject({ EncryptionContext: { delivery: 'ud_x#2' } });
    kms.restore();
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
