import { afterAll, beforeAll } from 'vitest';
import { httpDestination, httpDestinationSchema, type HttpDestinationFields } from '../../functions/destinations/http/schema.ts';
import { httpUploader } from '../../functions/destinations/http/upload.ts';
import { startTestUploadServer, type TestUploadServer } from '../support/servers/http-upload.ts';
import { describeDestinationConformance } from './destination-conformance.ts';

let server: TestUploadServer;

beforeAll(async () => {
  server = await startTestUploadServer({ user: 'uploader', password: 'conformance-password' });
});

afterAll(async () => {
  await server.close();
});

function fields(filename: string, overrides: Record<string, unknown> = {}): HttpDestinationFields {
  return httpDestinationSchema.parse({
    type: 'http',
    url: `${server.url}/upload`,
    filename,
    user: 'uploader',
    password: 'conformance-password',
    ...overrides,
  });
}

describeDestinationConformance({
  name: 'http (a Node server parsing forms with busboy)',
  definition: httpDestination,
  uploader: httpUploader,
  destination: (filename) => fields(filename),
  refusedDestination: (filename) => fields(filename, { password: 'wrong' }),
  // Port 1 is never listened on here: every connection is refused.
  unreachableDestination: (filename) => fields(filename, { url: 'http://127.0.0.1:1/upload' }),
  read: async (filename) => server.stored.get(filename)?.bytes,
  // The server keeps no partial body; what it is still receiving is what a client left hanging.
  leftovers: async () => ((await server.inProgress()) === 0 ? [] : [`${await server.inProgress()} uploads still being received`]),
  // One streamed request whatever the size: no chunked path, so any size that takes a while.
  largeSize: 16 * 1024 * 1024 + 7,
});
