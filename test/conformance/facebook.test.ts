import { afterAll, beforeAll } from 'vitest';
import { facebookDestination, facebookDestinationSchema, type FacebookDestinationFields } from '../../functions/destinations/facebook/schema.ts';
import { facebookUploader } from '../../functions/destinations/facebook/upload.ts';
import { pageVideoPermissions, startFacebookFake, type FacebookFake } from '../fakes/facebook.ts';
import { describeDestinationConformance } from './destination-conformance.ts';

const pageId = '20000000000001';
const pageToken = 'conformance-page-token';
const systemUserToken = 'conformance-system-user-token';
const expiredToken = 'conformance-expired-token';

let facebook: FacebookFake;

beforeAll(async () => {
  facebook = await startFacebookFake();
  facebook.tokens.grantAccess(pageToken, { subject: pageId, scopes: pageVideoPermissions });
  facebook.tokens.grantAccess(systemUserToken, { scopes: pageVideoPermissions });
  facebook.tokens.grantAccess(expiredToken, { subject: pageId, scopes: pageVideoPermissions });
  facebook.tokens.expire(expiredToken);
});

afterAll(async () => {
  await facebook.close();
});

/** The conformance suite names files; a video has no file name, so the name is its title. */
function fields(filename: string, token: Record<string, string>, overrides: Record<string, unknown> = {}): FacebookDestinationFields {
  return facebookDestinationSchema.parse({ type: 'facebook', title: filename, description: 'Conformance', endpoint: facebook.url, ...token, ...overrides });
}

async function read(filename: string): Promise<Buffer | undefined> {
  const video = [...facebook.videos.values()].find((candidate) => candidate.title === filename);
  return video?.bytes.read();
}

/**
 * `upload_phase` sessions not finished into a video: their bytes are held until cancelled.
 * Resumable Upload API sessions are not listed: Graph has no way to delete one (its edge takes no
 * DELETE), nobody sees it, and Facebook expires it on its own; what must never be left is a video.
 */
async function leftovers(): Promise<string[]> {
  return [...facebook.transferSessions.values()].filter((session) => !facebook.videos.has(session.videoId)).map((session) => session.id);
}

/**
 * Counts the upload body bytes the fake received, in either flow, in the sessions opened since
 * counting began for a file: a video's sessions do not know its title, and requests of earlier
 * cases may still be landing in theirs. The first call for a file starts its count.
 */
function receivedCounter(): (filename: string) => number {
  const sessionsBefore = new Map<string, ReadonlySet<string>>();
  return (filename) => {
    const sessions = [...facebook.uploadSessions.values(), ...facebook.transferSessions.values()];
    const before = sessionsBefore.get(filename);
    if (!before) {
      sessionsBefore.set(filename, new Set(sessions.map((session) => session.id)));
      return 0;
    }
    return sessions.filter((session) => !before.has(session.id)).reduce((sum, session) => sum + session.bytes.bytesReceived, 0);
  };
}

const common = {
  definition: facebookDestination,
  uploader: facebookUploader,
  read,
  leftovers,
  // Four chunks of the fake's 1 MiB upload_phase flow, the last one short.
  largeSize: 3 * 1024 * 1024 + 7,
  // Neither flow sends a byte twice: Facebook keeps what a broken request delivered, or the chunk being read was never sent.
  resumeSlackBytes: 0,
  refusesEmptyFiles: 'Facebook takes no empty video',
};

describeDestinationConformance({
  ...common,
  name: 'facebook, Page token (upload_phase flow, Graph fake)',
  bytesReceived: receivedCounter(),
  destination: (filename) => fields(filename, { oauth_access_token: pageToken }),
  refusedDestination: (filename) => fields(filename, { oauth_access_token: expiredToken }),
  // Port 1 is never listened on here: every connection is refused.
  unreachableDestination: (filename) => fields(filename, { oauth_access_token: pageToken }, { endpoint: 'http://127.0.0.1:1' }),
});

describeDestinationConformance({
  ...common,
  name: 'facebook, system-user token (Resumable Upload API, Graph fake)',
  bytesReceived: receivedCounter(),
  destination: (filename) => fields(filename, { oauth_access_token: systemUserToken, page_id: pageId }),
  refusedDestination: (filename) => fields(filename, { oauth_access_token: expiredToken, page_id: pageId }),
  unreachableDestination: (filename) => fields(filename, { oauth_access_token: systemUserToken, page_id: pageId }, { endpoint: 'http://127.0.0.1:1' }),
});
