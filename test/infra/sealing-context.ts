import { randomBytes } from 'node:crypto';
import type { AwsJsonClient } from '../../shared/net/aws-json-client.ts';
import { KmsKeyWrapper } from '../../shared/secrets/kms-key-wrapper.ts';
import { EnvelopeSealer } from '../../shared/secrets/sealer.ts';

/**
 * The IAM condition that matches the encryption context the deployed sealer sends KMS, found by
 * sealing and unsealing a value through the real `KmsKeyWrapper` against a recording stand-in for
 * KMS: a policy that asked for another context would refuse every seal in production.
 */
export async function sealingContextCondition(): Promise<Record<string, Record<string, string>>> {
  const contexts = new Set<string>();
  const dataKey = randomBytes(32).toString('base64');
  const kms = {
    call: (_action: string, input: { EncryptionContext?: Record<string, string> }) => {
      contexts.add(JSON.stringify(input.EncryptionContext ?? {}));
      return Promise.resolve({ Plaintext: dataKey, CiphertextBlob: randomBytes(16).toString('base64') });
    },
  };
  const sealer = new EnvelopeSealer(new KmsKeyWrapper(kms as unknown as AwsJsonClient, 'key'));
  await sealer.unseal(await sealer.seal({ secret: 'value' }, 'job'), 'job');
  const [context, ...others] = [...contexts].map((text) => JSON.parse(text) as Record<string, string>);
  if (!context || others.length > 0 || Object.keys(context).length === 0) throw new Error(`the sealer sends no single encryption context: ${[...contexts].join(', ')}`);
  return { StringEquals: Object.fromEntries(Object.entries(context).map(([key, value]) => [`kms:EncryptionContext:${key}`, value])) };
}
