import * as z from 'zod/mini';
import { alsoWithFieldErrors, credentialsReference, credentialText, secret, type DestinationDefinition } from '../../../shared/destination/index.ts';
import { videoParameters } from './video-fields.ts';

/** Meta's Graph API, where the seeds send videos by default. */
export const defaultGraphEndpoint = 'https://graph.facebook.com';

/**
 * The Graph API version calls are made with. An older version stays safe to name: once Meta retires
 * it, calls are answered by the oldest version still served; a version newer than Meta serves fails.
 */
export const defaultGraphApiVersion = 'v24.0';

/** Loopback hosts, where a test server (the local runtime's) may answer over plain http. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}


/**
 * The Graph API's base URL. The access token travels with every call, so plain http is refused
 * except on loopback (a test server of the local runtime, which the deployed service refuses anyway).
 */
const graphEndpoint = z.pipe(
  z.url({ protocol: /^https?$/, error: 'must be an https:// URL', abort: true }).check(
    z.refine((endpoint) => {
      const url = new URL(endpoint);
      return url.protocol === 'https:' || isLoopbackHost(url.hostname);
    }, 'must be an https:// URL (plain http only for a test server on loopback, such as http://127.0.0.1:8080): the access token travels with every call'),
    z.refine((endpoint) => {
      const url = new URL(endpoint);
      return url.search === '' && url.hash === '' && url.username === '' && url.password === '';
    }, 'must be a base URL without query, fragment or user info'),
  ),
  z.transform((endpoint: string) => endpoint.replace(/\/+$/, '')),
);

/** The most characters Graph takes as a video post's text (its `description`). */
const maxPostText = 63_206;

const facebookDestinationObject = z.strictObject({
  type: z.literal('facebook'),
  title: z
    .string()
    .check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(255, 'must be at most 255 characters'), z.describe("The video's title.")),
  description: z.string().check(z.maxLength(maxPostText, 'must be at most 63,206 characters'), z.describe("The post's text shown with the video; with message and caption, at most 63,206 characters in all.")),
  oauth_access_token: secret(
    z
      .optional(credentialText(4096, { inHeader: true }))
      .check(z.describe('A Page access token (or a user or system-user token of an admin of your Meta app, with page_id) (secret).')),
  ),
  credentials: z.optional(credentialsReference),
  caption: z
    .optional(z.string().check(z.maxLength(maxPostText)))
    .check(z.describe("A line added at the end of the post's text (Graph has no separate caption for videos).")),
  name: z.optional(z.string()).check(z.describe('The older name of the title: accepted when it equals title.')),
  message: z.optional(z.string().check(z.maxLength(maxPostText))).check(z.describe("Text put first in the post's text (Graph's description).")),
  endpoint: z._default(graphEndpoint, defaultGraphEndpoint).check(z.describe('Graph API base URL.')),
  page_id: z
    .optional(z.string().check(z.regex(/^\d{1,32}$/, "must be the Page's numeric ID")))
    .check(z.describe('The Page to publish on. Default: the Page of a Page access token.')),
  api_version: z
    ._default(z.string().check(z.regex(/^v\d{1,3}\.\d{1,2}$/, 'must be a Graph API version such as v24.0')), defaultGraphApiVersion)
    .check(z.describe('Graph API version.')),
});

export type FacebookDestinationFields = z.output<typeof facebookDestinationObject>;

/** Rules between fields, each reported on the field a user has to change. */
function checkFieldCombinations(destination: FacebookDestinationFields, context: z.core.$RefinementCtx<FacebookDestinationFields>): void {
  const issue = (path: string, message: string): void => {
    context.addIssue({ code: 'custom', path: [path], message });
  };
  if (destination.oauth_access_token === undefined && destination.credentials === undefined) {
    issue('oauth_access_token', 'is required, unless credentials names a stored secret holding it');
  }
  if (typeof destination.name === 'string' && typeof destination.title === 'string' && destination.name.trim() !== destination.title) {
    issue('name', 'is the older name of title (a Facebook video has one title): leave it out, or give the same value as title');
  }
  // message and caption join description in one text; Graph would refuse it only after the upload.
  // (This runs with field errors too: a field of another type is reported on its own.)
  const texts = [destination.message, destination.description, destination.caption];
  const postText = texts.every((text) => text === undefined || typeof text === 'string') ? (videoParameters(destination).description ?? '') : '';
  if (postText.length > maxPostText) {
    issue('description', `with message and caption makes a post text of ${postText.length.toLocaleString('en-US')} characters: at most 63,206`);
  }
}

export const facebookDestinationSchema = facebookDestinationObject.check(z.superRefine(checkFieldCombinations, alsoWithFieldErrors));

/** Meta's limit for a video on a Page. */
const maxVideoBytes = 10 * 1024 ** 3;

export const facebookDestination: DestinationDefinition<typeof facebookDestinationSchema> = {
  type: 'facebook',
  title: 'Facebook Page video (Meta Graph API)',
  schema: facebookDestinationSchema,
  endpointsOf: (destination) => [{ field: 'endpoint', address: destination.endpoint }],
  // A stored token goes to Meta only, unless the operator allows another host.
  credentialHosts: ['facebook.com', '*.facebook.com'],
  // Graph rate limits are per app, Page and user: a few uploads at a time are plenty.
  lambda: { memoryMb: 704, timeoutSeconds: 900, maxConcurrency: 10 },
  capabilities: {
    // An upload session ID (with its signature) lets whoever holds it, with a token, add bytes.
    resumable: { sealed: true },
    probe: 'identity',
    maxBytes: maxVideoBytes,
  },
};
