import * as z from 'zod/mini';
import {
  alsoWithFieldErrors,
  credentialsReference,
  credentialText,
  filePath,
  headerValue,
  httpUrl,
  namesAFile,
  secret,
  secretEntries,
  secretUrl,
  textOfScalar,
  withoutControlCharacters,
  type DestinationDefinition,
} from '../../../shared/destination/index.ts';

/** The methods that carry a file: POST sends a multipart form, PUT the raw bytes. */
export const httpMethods = ['POST', 'PUT'] as const;

/** Headers that hold credentials: sealed like any secret, dropped on a redirect to another origin. */
export function isSecretHeader(name: string): boolean {
  return /^(proxy-)?authorization$|^cookie$|(^|[-_])(token|key|apikey|secret|password|signature)$/i.test(name);
}

/** Form fields named like credentials (a presigned form's signature, an API token): sealed too. */
export function isSecretFormField(name: string): boolean {
  return /token|secret|password|passwd|signature|credential|key|auth/i.test(name);
}

/**
 * Headers the upload itself decides (framing, length, the form's boundary), each with what to give
 * instead; a caller's value would break the request or contradict the body.
 */
export const reservedHeaders: Readonly<Record<string, string>> = {
  host: 'the host comes from url',
  'content-length': 'the length is computed from the source',
  'transfer-encoding': 'the body is chunked only when the source has no size',
  connection: 'connections are managed by the service',
  'keep-alive': 'connections are managed by the service',
  upgrade: 'connections are managed by the service',
  te: 'connections are managed by the service',
  trailer: 'the request has no trailers',
  expect: 'the service asks for 100-continue itself',
  'content-type': 'give contenttype instead (a POST form sets its own multipart type)',
};

/**
 * A header value that Node sends as it is: Latin-1 text without control characters (line breaks
 * and NUL are reported by `headerValue` already).
 */
const latin1HeaderValue = headerValue.check(
  z.refine(
    // eslint-disable-next-line no-control-regex
    (value) => /^[\t\r\n\u0000\x20-\x7e\x80-\xff]*$/.test(value),
    'must be Latin-1 text without control characters (a header carries no other characters)',
  ),
);

/** An HTTP header name (an RFC 9110 token). */
const headerName = z.string().check(z.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'must be a valid header name'));

const formFieldName = z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(256), withoutControlCharacters);

/** Form values: numbers and booleans are sent as their text, as a browser form would. */
const formFieldValue = textOfScalar.check(z.refine((value) => Buffer.byteLength(value) <= 65_536, 'must be at most 64 KiB'));

const method = z
  ._default(
    z.pipe(
      z.transform((value: unknown) => (typeof value === 'string' ? value.trim().toUpperCase() : value)),
      z.pipe(
        z.string({ error: 'must be POST or PUT' }).check(
          z.refine((value) => value !== 'GET', {
            error: 'a GET carries no file: use POST (the file as a multipart form) or PUT (the raw bytes)',
            abort: true,
          }),
        ),
        z.enum(httpMethods, { error: 'must be POST or PUT' }),
      ),
    ),
    'POST',
  )
  .check(z.describe('POST (the default) sends a multipart/form-data form, PUT the raw bytes; in any case. GET carries no file and is refused.'));

const httpDestinationObject = z.strictObject({
  type: z.literal('http'),
  url: secretUrl(
    httpUrl.check(
      z.describe(
        'The upload endpoint. With PUT, a url ending in "/" is a collection: the filename is appended. A query (a presigned url\'s signature) and token-like path segments (a webhook\'s) are sealed: the job keeps the url without them.',
      ),
    ),
  ),
  filename: filePath(1024).check(
    namesAFile,
    z.describe('The file name sent with the upload. Ending in "/" means "this folder": the source file name is appended.'),
  ),
  method,
  user: secret(
    z
      .optional(
        credentialText(1024).check(z.refine((user) => !user.includes(':'), 'must not contain ":" (Basic authentication cannot carry it)')),
      )
      .check(z.describe('User name for HTTP Basic authentication (sealed, so that a stored secret can hold it beside the password).')),
  ),
  password: secret(
    z
      .optional(
        z.string().check(z.maxLength(1024), withoutControlCharacters),
      )
      .check(z.describe('Password for HTTP Basic authentication (secret).')),
  ),
  credentials: z.optional(credentialsReference),
  fileid: z._default(formFieldName, 'file').check(z.describe('Name of the form field that holds the file (POST).')),
  fields: secretEntries(
    z
      ._default(
        z.record(formFieldName, formFieldValue).check(z.refine((fields) => Object.keys(fields).length <= 100, 'at most 100 fields')),
        {},
      )
      .check(z.describe('Extra form fields sent before the file (POST). Those named like credentials are sealed.')),
    isSecretFormField,
  ),
  headers: secretEntries(
    z
      ._default(
        z.record(headerName, latin1HeaderValue).check(
          z.superRefine((headers, context) => {
            for (const name of Object.keys(headers)) {
              const reason = reservedHeaders[name.toLowerCase()];
              if (reason !== undefined) context.addIssue({ code: 'custom', path: [name], message: `is set by the service: ${reason}` });
            }
          }),
          z.refine((headers) => Object.keys(headers).length <= 50, 'at most 50 headers'),
        ),
        {},
      )
      .check(z.describe('Extra request headers. Authorization, Cookie and *-Token, *-Key, *-Secret headers are sealed.')),
    isSecretHeader,
  ),
  contenttype: z
    .optional(
      latin1HeaderValue.check(z.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;.*)?$/, 'must be a media type such as video/mp4')),
    )
    .check(z.describe("Content-Type of the file. Default: the source's, else application/octet-stream.")),
});

export type HttpDestinationFields = z.output<typeof httpDestinationObject>;

/** Rules between fields, each reported on the field a user has to change. */
function checkFieldCombinations(destination: HttpDestinationFields, context: z.core.$RefinementCtx<HttpDestinationFields>): void {
  const issue = (path: string, message: string): void => {
    context.addIssue({ code: 'custom', path: [path], message });
  };
  if (destination.password !== undefined && destination.user === undefined) {
    issue('user', 'is required with password (Basic authentication sends both)');
  }
  const authorization = Object.keys(Object(destination.headers)).find((name) => name.toLowerCase() === 'authorization');
  if (authorization !== undefined && destination.user !== undefined) {
    issue('headers', `sets ${authorization} and so do user and password; give one of them`);
  }
  if (destination.method === 'PUT' && Object.keys(Object(destination.fields)).length > 0) {
    issue('fields', 'need method POST: a PUT sends the raw bytes, with no form to carry them');
  }
  if (destination.method === 'POST' && Object.keys(Object(destination.fields)).includes(String(destination.fileid))) {
    issue('fields', `has a field named '${String(destination.fileid)}', the name of the file part (fileid); rename one`);
  }
}

export const httpDestinationSchema = httpDestinationObject.check(z.superRefine(checkFieldCombinations, alsoWithFieldErrors));

export const httpDestination: DestinationDefinition<typeof httpDestinationSchema> = {
  type: 'http',
  title: 'Any HTTP endpoint (POST a multipart form or PUT the bytes)',
  schema: httpDestinationSchema,
  endpointsOf: (destination) => [{ field: 'url', address: destination.url }],
  // One streamed request: memory stays flat; the CPU share (which grows with memory) pays for TLS.
  lambda: { memoryMb: 320, timeoutSeconds: 900, maxConcurrency: 50 },
  capabilities: {
    // An OPTIONS request with the upload's credentials: nothing is written (see upload.ts).
    probe: 'identity',
  },
};
