import { classifyGeneric, PermanentError, retryAfterSeconds, TransientError, type DeliveryError } from '../../../shared/destination/index.ts';
import { TokenEndpointError } from './auth.ts';
import { DropboxApiError } from './client.ts';

/** A Dropbox union value as errors carry it: `{ ".tag": name, …fields }`. */
interface Tagged {
  readonly '.tag'?: string;
  readonly [field: string]: unknown;
}

/** The tags of an endpoint error from the outside in (`path`, `conflict`, `file`), as `error_summary` spells them. */
export function errorTags(body: unknown): string[] {
  const summary = (body as { error_summary?: unknown } | undefined)?.error_summary;
  if (typeof summary === 'string') return summary.split('/').filter((tag) => !/^\.*$/.test(tag));
  const tags: string[] = [];
  let current = (body as { error?: unknown } | undefined)?.error as Tagged | undefined;
  while (current && typeof current === 'object' && typeof current['.tag'] === 'string') {
    const tag = current['.tag'];
    tags.push(tag);
    current = (current[tag] ?? current.reason) as Tagged | undefined;
  }
  return tags;
}

/** The error union of a Dropbox answer (`error`), when it has one. */
export function errorBody(error: DropboxApiError): Tagged | undefined {
  const body = error.body as { error?: unknown } | undefined;
  return typeof body === 'object' && body !== null && typeof body.error === 'object' ? (body.error as Tagged) : undefined;
}

/** Why Dropbox would not write the file, by the tags after `path`/`reason` (`WriteError`), and what to change. */
const writeAdvice: Readonly<Record<string, string>> = {
  'conflict/file': 'a different file is already at this path: set mode "overwrite" to replace it, or autorename true to store this one beside it',
  'conflict/folder': 'a folder is at this path: choose another filename',
  'conflict/file_ancestor': 'a file is where a folder of this path should be: choose another filename',
  insufficient_space: 'the Dropbox account is full: free space or upgrade the account',
  disallowed_name: 'Dropbox does not store files of this name (system files such as desktop.ini or .DS_Store): choose another filename',
  malformed_path: 'the path is not one Dropbox accepts (empty or "." components, a trailing space or dot): change filename',
  no_write_permission: 'the account may not write here (a read-only shared folder?): choose another filename',
  team_folder: 'team folders cannot be written this way: choose another filename',
};

/** Token problems (HTTP 401): what to do about each. */
const authAdvice: Readonly<Record<string, string>> = {
  expired_access_token: 'the access token has expired: send a fresh oauth_token, or use auth_secret, whose tokens the service renews itself',
  invalid_access_token: 'the access token is not valid (revoked, or not a Dropbox token): send a valid oauth_token, or authorize again for auth_secret',
  user_suspended: 'the Dropbox account is suspended',
  invalid_select_user: 'the token belongs to a team; a user token is needed',
  route_access_denied: 'the app may not use this Dropbox route',
};

function writeFailure(tags: readonly string[], error: unknown): DeliveryError | undefined {
  const reasonAt = tags.findIndex((tag) => tag === 'path' || tag === 'reason');
  if (reasonAt < 0) return undefined;
  const reason = tags.slice(reasonAt + 1);
  if (reason[0] === 'too_many_write_operations') {
    return new TransientError('Dropbox: too many writes in this account at once; retrying later', { code: 'too_many_write_operations', cause: error });
  }
  const key = reason[0] === 'conflict' ? reason.slice(0, 2).join('/') : (reason[0] ?? '');
  const advice = writeAdvice[key];
  return advice ? new PermanentError(`Dropbox path/${key}: ${advice}`, { code: `path/${key}`, cause: error }) : undefined;
}

/** The text of a plain-text answer (a malformed request), with anything token-like removed. */
function plainAnswer(body: unknown): string {
  return typeof body === 'string' ? body.replace(/Bearer\s+\S+/gi, 'Bearer …').slice(0, 300) : '';
}

function classifyResponse(error: DropboxApiError): DeliveryError {
  const { status } = error;
  const tags = errorTags(error.body);
  const union = errorBody(error);
  if (status === 401) {
    const tag = tags[0] ?? 'unauthorized';
    if (tag === 'missing_scope') {
      const scope = typeof union?.required_scope === 'string' ? union.required_scope : 'the one this call needs';
      return new PermanentError(`Dropbox missing_scope: the token lacks the scope ${scope}: enable it in the app's Permissions tab, then authorize again`, {
        code: 'missing_scope',
        cause: error,
      });
    }
    return new PermanentError(`Dropbox ${tag}: ${authAdvice[tag] ?? 'the token was refused'}`, { code: tag, cause: error });
  }
  if (status === 429) {
    const seconds = retryAfterSeconds(error.headers.get('retry-after')) ?? (typeof union?.retry_after === 'number' ? union.retry_after : undefined);
    return new TransientError(`Dropbox ${tags.join('/') || 'too_many_requests'}: throttled`, { code: 'too_many_requests', cause: error, retryAfterSeconds: seconds });
  }
  if (status === 409) {
    const write = writeFailure(tags, error);
    if (write) return write;
    const tag = tags.join('/');
    if (tags.includes('content_hash_mismatch')) return new TransientError('Dropbox content_hash_mismatch: bytes were damaged on the way; sending again', { code: 'content_hash_mismatch', cause: error });
    if (tags.includes('too_large')) return new PermanentError('Dropbox too_large: the file is larger than an upload session takes (350 GB)', { code: 'too_large', cause: error });
    if (tags.includes('email_not_verified')) {
      return new PermanentError("Dropbox email_not_verified: shared links need the account's email address verified (or set shared_link false)", { code: 'email_not_verified', cause: error });
    }
    if (tags.includes('incorrect_offset') || tags.includes('not_found') || tags.includes('closed')) {
      return new TransientError(`Dropbox ${tag}: the upload session changed under this attempt; the next one continues from what Dropbox has`, { code: tags.at(-1) ?? tag, cause: error });
    }
    return new PermanentError(`Dropbox ${tag || 'refused the call'}`, { code: tag || 'HTTP409', cause: error });
  }
  if (status === 400) return new PermanentError(`Dropbox refused the request: ${plainAnswer(error.body)}`, { code: 'bad_request', cause: error });
  if (status === 403) return new PermanentError(`Dropbox refused access (${tags.join('/') || 'forbidden'})`, { code: tags[0] ?? 'HTTP403', cause: error });
  return classifyGeneric(error, status);
}

function classifyTokenEndpoint(error: TokenEndpointError): DeliveryError {
  if (error.error === 'invalid_grant') {
    return new PermanentError('Dropbox invalid_grant: the refresh token auth_secret names was revoked or belongs to another app: authorize again (npm run authorize -- dropbox <name>)', {
      code: 'invalid_grant',
      cause: error,
    });
  }
  if (error.error === 'invalid_client') {
    return new PermanentError("Dropbox invalid_client: the app key or secret in 'application/dropbox' is wrong", { code: 'invalid_client', cause: error });
  }
  if (error.status === 429 || error.status >= 500) {
    return new TransientError(`Dropbox's token endpoint answered ${error.status}`, { code: `HTTP${error.status}`, cause: error, retryAfterSeconds: error.retryAfterSeconds });
  }
  return new PermanentError(`Dropbox's token endpoint refused the refresh (${error.error ?? error.status})`, { code: error.error ?? `HTTP${error.status}`, cause: error });
}

/**
 * Decides whether a Dropbox failure is worth another attempt, saying what to change when it is
 * not: write conflicts, a full account, names Dropbox refuses, token and scope problems are
 * permanent; throttles (with Dropbox's `Retry-After`), 5xx and damaged bytes are transient.
 */
export function classifyDropboxError(error: unknown): DeliveryError {
  if (error instanceof DropboxApiError) return classifyResponse(error);
  if (error instanceof TokenEndpointError) return classifyTokenEndpoint(error);
  return classifyGeneric(error);
}
