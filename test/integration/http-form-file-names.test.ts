import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpDestination, httpDestinationSchema } from '../../functions/destinations/http/schema.ts';
import { httpUploader } from '../../functions/destinations/http/upload.ts';
import { attemptUpload } from '../support/attempts.ts';
import { startTestUploadServer, type TestUploadServer } from '../support/servers/http-upload.ts';
import { patternBytes, sha256, sourceOf } from '../support/sources.ts';

const module = { definition: httpDestination, uploader: httpUploader };
let server: TestUploadServer;

beforeAll(async () => {
  server = await startTestUploadServer();
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.requests.length = 0;
  server.stored.clear();
});

// busboy reads a form as RFC 7578 says (a quoted-string, `\` escaping the next character), as Go's
// mime and Django do: the file part must arrive as one, under the name given.
describe('HTTP destination: the file name of a form is read back by busboy as it was given', () => {
  it.each([
    ['a name ending in a backslash', 'renders\\'],
    ['a Windows path', 'C:\\renders\\clip.mp4'],
    ['a backslash before a quote', 'a\\"b.mp4'],
    ['quotes', 'clip "final".mp4'],
    ['a semicolon and an equals sign', 'a; filename=b.mp4'],
    ['non-ASCII', 'été 映画.mp4'],
  ])('%s', async (_case, filename) => {
    const bytes = patternBytes(1000, 4);

    await attemptUpload(module, httpDestinationSchema.parse({ type: 'http', url: `${server.url}/upload`, filename }), sourceOf(bytes));

    expect(server.requests[0]?.files.map((file) => file.filename)).toEqual([filename.replaceAll('"', '%22')]);
    expect(server.stored.get(filename.replaceAll('"', '%22'))?.sha256).toBe(sha256(bytes));
  });
});
