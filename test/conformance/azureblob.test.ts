import { afterAll, beforeAll } from 'vitest';
import { azureBlobDestination, azureBlobDestinationSchema, type AzureBlobDestinationFields } from '../../functions/destinations/azureblob/schema.ts';
import { azureBlobUploader } from '../../functions/destinations/azureblob/upload.ts';
import { startTestAzure, type TestAzure } from '../support/azure-storage.ts';
import { describeDestinationConformance } from './destination-conformance.ts';

let azure: TestAzure;

beforeAll(async () => {
  azure = await startTestAzure(['conformance']);
});

afterAll(async () => {
  await azure.close();
});

function fields(filename: string, overrides: Record<string, unknown> = {}): AzureBlobDestinationFields {
  return azureBlobDestinationSchema.parse({
    type: 'azureblob',
    account: azure.account,
    key: azure.accountKey,
    container: 'conformance',
    filename,
    endpoint: azure.blobEndpoint,
    ...overrides,
  });
}

/** Body bytes of every upload request (Put Blob, Put Block) the service received for `filename`. */
function bytesReceived(filename: string): number {
  return azure.requests
    .filter((request) => request.method === 'PUT' && request.path === `/conformance/${filename}` && request.query.get('comp') !== 'blocklist')
    .reduce((sum, request) => sum + request.bodyBytes, 0);
}

describeDestinationConformance({
  name: 'azureblob (Azurite)',
  definition: azureBlobDestination,
  uploader: azureBlobUploader,
  destination: (filename) => fields(filename),
  refusedDestination: (filename) => fields(filename, { container: 'no-such-container' }),
  // Port 1 is never listened on here: every connection is refused.
  unreachableDestination: (filename) => fields(filename, { endpoint: `http://127.0.0.1:1/${azure.account}` }),
  read: (filename) => azure.read('conformance', filename),
  leftovers: () => azure.leftovers('conformance'),
  bytesReceived,
  // Three blocks of 8 MiB and a short fourth.
  largeSize: 25 * 1024 * 1024 + 7,
  // The block being cut when the source broke is never sent; blocks in flight complete.
  resumeSlackBytes: 0,
});
