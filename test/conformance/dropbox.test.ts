import { afterAll, beforeAll } from 'vitest';
import type { Fetch } from '../../functions/destinations/dropbox/client.ts';
import { dropboxDestination } from '../../functions/destinations/dropbox/schema.ts';
import { type DropboxFake, startDropboxFake } from '../fakes/dropbox.ts';
import { bytesReceivedFor, dropboxFields, grantTestToken, openSessions, testChunkBytes, uploaderFor } from '../support/dropbox.ts';
import { localNetwork } from '../support/network.ts';
import { describeDestinationConformance } from './destination-conformance.ts';

let fake: DropboxFake;
const unreachableToken = 'token-of-an-unreachable-dropbox';

beforeAll(async () => {
  fake = await startDropboxFake();
  grantTestToken(fake);
});

afterAll(async () => {
  await fake.close();
});

/**
 * Dropbox's endpoints are the operator's setting, not a field, so one uploader serves every case;
 * a Dropbox that cannot be reached is the fake's address with a port nothing listens on (1),
 * taken by the requests of one token.
 */
const unreachableFetch: Fetch = (url, init) => {
  const authorization = init.headers?.authorization;
  return localNetwork.fetch(authorization === `Bearer ${unreachableToken}` ? url.replace(fake.url, 'http://127.0.0.1:1') : url, init);
};

describeDestinationConformance({
  name: 'dropbox (the Dropbox API v2 fake)',
  definition: dropboxDestination,
  uploader: uploaderFor(() => fake, { fetch: unreachableFetch }),
  destination: (filename) => dropboxFields(filename),
  refusedDestination: (filename) => dropboxFields(filename, { oauth_token: 'revoked-or-never-issued' }),
  unreachableDestination: (filename) => dropboxFields(filename, { oauth_token: unreachableToken }),
  read: async (filename) => fake.file(`/${filename}`)?.bytes.read(),
  leftovers: async () => openSessions(fake),
  bytesReceived: (filename) => bytesReceivedFor(fake, `/${filename}`),
  // Two chunks of 4 MiB and a short third: the session path.
  largeSize: 2 * testChunkBytes + 1234,
  // A source that breaks is noticed between chunks: every chunk sent was whole and kept.
  resumeSlackBytes: 0,
});
