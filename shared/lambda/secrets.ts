import { readFileSync } from 'node:fs';
import { secretNames, type ServiceConfig } from '../config.ts';
import { AwsJsonClient, kmsService, secretsManagerService } from '../net/aws-json-client.ts';
import { KmsKeyWrapper } from '../secrets/kms-key-wrapper.ts';
import { EnvelopeSealer, LocalKeyWrapper } from '../secrets/sealer.ts';
import { FileSecretStore, localSecretsManagerCallsChannel, SecretsManagerStore, type SecretStore } from '../secrets/secret-store.ts';
import { serviceClientSettings } from './aws-clients.ts';

/** The sealer of inline secrets: KMS-backed in AWS, a local key file in the local runtime. */
export function sealerFor(config: ServiceConfig): EnvelopeSealer {
  if (config.sealer.kind === 'kms') {
    return new EnvelopeSealer(new KmsKeyWrapper(new AwsJsonClient(kmsService, serviceClientSettings(config)), config.sealer.keyId));
  }
  return new EnvelopeSealer(new LocalKeyWrapper(Buffer.from(readFileSync(config.sealer.keyFile, 'utf8').trim(), 'base64')));
}

export function secretStoreFor(config: ServiceConfig): SecretStore {
  if (config.secretStore.kind === 'file') {
    // The local runtime counts what Secrets Manager would be asked (`npm run simulate`, the bench).
    const calls = new BroadcastChannel(localSecretsManagerCallsChannel);
    // The channel must not keep a function's thread alive.
    (calls as unknown as { unref(): void }).unref();
    return new FileSecretStore(config.secretStore.path, { onRequest: (action) => calls.postMessage(action) });
  }
  return new SecretsManagerStore(new AwsJsonClient(secretsManagerService, serviceClientSettings(config)), config.secretPrefix);
}

/** The key that signs callbacks: the `key` field of the stored signing secret. */
export function callbackSigningKey(secrets: SecretStore): () => Promise<string> {
  return async () => {
    const { key } = await secrets.read(secretNames.callbackSigningKey);
    if (typeof key !== 'string' || key === '') throw new Error(`the secret '${secretNames.callbackSigningKey}' has no 'key' field`);
    return key;
  };
}
