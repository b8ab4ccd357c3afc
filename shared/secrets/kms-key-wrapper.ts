import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { KeyWrapper } from './sealer.ts';

/**
 * Data keys from AWS KMS. The delivery context is the KMS encryption context too, so CloudTrail
 * shows which delivery every decrypt was for, and a key policy can condition on it.
 */
export class KmsKeyWrapper implements KeyWrapper {
  public constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {}

  public async newDataKey(context: string): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    const answer = await this.kms.send(
      new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: { delivery: context } }),
    );
    if (!answer.Plaintext || !answer.CiphertextBlob) throw new Error('KMS returned no data key');
    return { plaintext: Buffer.from(answer.Plaintext), wrapped: Buffer.from(answer.CiphertextBlob) };
  }

  public async unwrap(wrapped: Buffer, context: string): Promise<Buffer> {
    const answer = await this.kms.send(
      new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: wrapped, EncryptionContext: { delivery: context } }),
    );
    if (!answer.Plaintext) throw new Error('KMS returned no plaintext');
    return Buffer.from(answer.Plaintext);
  }
}
