import { afterAll, beforeAll } from 'vitest';
import { youtubeDestination, youtubeDestinationSchema, type YouTubeDestinationFields } from '../../functions/destinations/youtube/schema.ts';
import { youtubeUploader } from '../../functions/destinations/youtube/upload.ts';
import { startYouTubeFake, youtubeScopes, type YouTubeFake } from '../fakes/youtube.ts';
import { describeDestinationConformance } from './destination-conformance.ts';

const MiB = 1024 * 1024;
const token = 'conformance-token';
let youtube: YouTubeFake;

beforeAll(async () => {
  youtube = await startYouTubeFake();
  youtube.tokens.grantAccess(token, { scopes: [youtubeScopes.upload] });
});

afterAll(async () => {
  await youtube.close();
});

/** YouTube names a video by its title: the suite's filename becomes the title, and is read back by it. */
function fields(filename: string, overrides: Record<string, unknown> = {}): YouTubeDestinationFields {
  return youtubeDestinationSchema.parse({ type: 'youtube', title: filename, description: 'conformance', oauth_access_token: token, ...overrides });
}

function videoTitled(title: string) {
  return [...youtube.videos.values()].find((video) => video.metadata.snippet.title === title);
}

// 1 MiB chunks (four 256 KiB units), so a few MiB take the chunked path several times over.
const settings = { chunkBytes: MiB, chunkRetries: 2, retryBaseMs: 10, checkpointBytes: 2 * MiB };
const reachable = () => youtubeUploader({ apiUrl: youtube.url, tokenUrl: `${youtube.url}/token` }, settings);
// Google's endpoints belong to the deployment, not to a destination: the unreachable case runs the
// uploader pointed at a port nothing listens on.
const unreachableTitle = 'conformance/unreachable.bin';
const unreachable = youtubeUploader({ apiUrl: 'http://127.0.0.1:1', tokenUrl: 'http://127.0.0.1:1/token' }, settings);
const uploader: ReturnType<typeof youtubeUploader> = {
  upload: (context) => (context.destination.title === unreachableTitle ? unreachable : reachable()).upload(context),
  classify: (error) => unreachable.classify(error),
  discard: (context) => reachable().discard!(context),
};

describeDestinationConformance({
  name: 'youtube (the YouTube Data API fake)',
  definition: youtubeDestination,
  uploader,
  destination: (filename) => fields(filename),
  refusedDestination: (filename) => fields(filename, { oauth_access_token: 'a-token-google-never-issued' }),
  unreachableDestination: () => fields(unreachableTitle),
  read: async (filename) => videoTitled(filename)?.bytes.read(),
  // Sessions still holding an unfinished upload: neither completed, cancelled nor expired.
  leftovers: async () => [...youtube.sessions.values()].filter((session) => session.videoId === undefined && !session.cancelled && !session.expired).map((session) => session.id),
  bytesReceived: (filename) =>
    [...youtube.sessions.values()].filter((session) => session.metadata.snippet.title === filename).reduce((sum, session) => sum + session.bytes.bytesReceived, 0),
  largeSize: 3 * MiB + 7,
  // The chunk being read when the source broke is never sent; the one in flight completes.
  resumeSlackBytes: 0,
});
