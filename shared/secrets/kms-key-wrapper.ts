import type { AwsJsonClient } from '../net/aws-json-client.ts';
import type { KeyWrapper } from './sealer.ts';

/** KMS's answers, their blobs in base64 as its JSON protocol carries them. */
interface DataKeyAnswer {
  readonly Plaintext?: string;
  readonly CiphertextBlob?: string;
}

/**
 * Data keys from AWS KMS, under the encryption context `{ purpose: <context> }`: a key policy can
 * condition on it, and CloudTrail shows what each data key was for.
 */
export class KmsKeyWrapper implements KeyWrapper {
  /** @param kms a client of KMS (`kmsService`) */
  public constructor(
    private readonly kms: AwsJsonClient,
    private readonly keyId: string,
  ) {}

  public async newDataKey(context: string): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    const answer = await this.kms.call<DataKeyAnswer>('GenerateDataKey', { KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: { purpose: context } });
    if (!answer.Plaintext || !answer.CiphertextBlob) throw new Error('KMS returned no data key');
    return { plaintext: Buffer.from(answer.Plaintext, 'base64'), wrapped: Buffer.from(answer.CiphertextBlob, 'base64') };
  }

  public async unwrap(wrapped: Buffer, context: string): Promise<Buffer> {
    const answer = await this.kms.call<DataKeyAnswer>('Decrypt', {
      KeyId: this.keyId,
      CiphertextBlob: wrapped.toString('base64'),
      EncryptionContext: { purpose: context },
    });
    if (!answer.Plaintext) throw new Error('KMS returned no plaintext');
    return Buffer.from(answer.Plaintext, 'base64');
  }
}
