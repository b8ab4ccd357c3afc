import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { KeyWrapper } from './sealer.ts';

/**
 * Data keys from AWS KMS, under the encryption context `{ purpose: <context> }`: a key policy can
 * condition on it, and CloudTrail shows what each data key was for.
 */
export class KmsKeyWrapper implements KeyWrapper {
  public constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {}

  public async newDataKey(context: string): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    const answer = await this.kms.send(
      new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: { purpose: context } }),
    );
    if (!answer.Plaintext || !answer.CiphertextBlob) throw new Error('KMS returned no data key');
    return { plaintext: Buffer.from(answer.Plaintext), wrapped: Buffer.from(answer.CiphertextBlob) };
  }

  public async unwrap(wrapped: Buffer, context: string): Promise<Buffer> {
    const answer = await this.kms.send(
      new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: wrapped, EncryptionContext: { purpose: context } }),
    );
    if (!answer.Plaintext) throw new Error('KMS returned no plaintext');
    return Buffer.from(answer.Plaintext);
  }
}
