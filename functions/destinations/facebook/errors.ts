import { classifyGeneric, DeliveryError, PermanentError, TransientError } from '../../../shared/destination/index.ts';
import { GraphError } from './graph-client.ts';

/** Graph's throttling codes: app (4), user (17), Page (32), per-API (613) and business use case (80001–80014) limits. */
const rateLimitCodes = new Set([4, 17, 32, 613]);
const isBusinessUseCaseLimit = (code: number): boolean => code >= 80_001 && code <= 80_014;

/** Upload session problems (code 6000/6001 with these subcodes). */
export const uploadSessionExpired = 1_363_030;
export const uploadOffsetMismatch = 1_363_037;

const permissionsAdvice =
  'the token may not publish videos on this Page: a Page access token needs pages_show_list, pages_read_engagement and ' +
  'pages_manage_posts, granted by a person who can create content on the Page (the CREATE_CONTENT task)';

const tokenAdvice: Readonly<Record<number, string>> = {
  458: 'the person removed the app',
  459: 'the person must log in to Facebook to unlock their account',
  460: 'the person changed their password',
  463: 'the token has expired',
  464: 'the person is not confirmed on Facebook',
  467: 'the token is no longer valid (the person logged out, or the token was revoked)',
  492: 'the person lost their role on the Page',
};

function graphMessage(error: GraphError): string {
  return error.problem.error_user_msg ?? error.problem.message ?? error.message;
}

/** What a Graph error means for the delivery; undefined when only its HTTP status can tell. */
function classifyGraphError(error: GraphError): DeliveryError | undefined {
  const { code, subcode } = error;
  const label = `Graph ${code}${subcode === undefined ? '' : `/${subcode}`}`;
  if (code === 190 || code === 102) {
    const why = (subcode === undefined ? undefined : tokenAdvice[subcode]) ?? 'the access token is invalid';
    return new PermanentError(
      `oauth_access_token: ${why} (${label}). Give a new one; a Page token obtained from a long-lived user or system-user token does not expire (see the README)`,
      { code: subcode === 463 ? 'TokenExpired' : 'TokenInvalid', cause: error },
    );
  }
  if (code === 104 || code === 2500) return new PermanentError(`oauth_access_token: Graph received no usable token (${label})`, { code: 'TokenMissing', cause: error });
  if (code !== undefined && (rateLimitCodes.has(code) || isBusinessUseCaseLimit(code))) {
    return new TransientError(`rate limited by Facebook (${label}): ${graphMessage(error)}`, {
      code: 'RateLimited',
      cause: error,
      ...(error.regainAccessSeconds === undefined ? {} : { retryAfterSeconds: error.regainAccessSeconds }),
    });
  }
  if (code === 10) {
    return new PermanentError(
      `the Meta app may not do this (${label}): opening an upload session needs a user or system-user token of a person with an Administrator or Developer role on the app; ` +
        `a Page access token publishes through the Page instead. ${graphMessage(error)}`,
      { code: 'AppPermissionDenied', cause: error },
    );
  }
  if (code === 200 || (code !== undefined && code > 200 && code < 300)) {
    return new PermanentError(`${permissionsAdvice} (${label}): ${graphMessage(error)}`, { code: 'PermissionDenied', cause: error });
  }
  if (subcode === uploadSessionExpired) return new TransientError(`the upload session expired (${label}); the next attempt starts a new one`, { code: 'UploadSessionExpired', cause: error });
  if (subcode === uploadOffsetMismatch) return new TransientError(`the upload's offset moved (${label}); the next attempt continues where Facebook stands`, { code: 'UploadOffsetMismatch', cause: error });
  if (code === 100 && subcode === 33) {
    return new PermanentError(`page_id: the Page does not exist, or the token cannot see it (${label})`, { code: 'PageNotFound', cause: error });
  }
  if (code === 368) return new PermanentError(`Facebook blocked the action as abusive (${label}): ${graphMessage(error)}`, { code: 'Blocked', cause: error });
  if (error.problem.is_transient === true || code === 1 || code === 2) {
    return new TransientError(`Facebook had a temporary problem (${label}): ${graphMessage(error)}`, { code: 'GraphTemporary', cause: error });
  }
  if (code !== undefined && error.status < 500) {
    return new PermanentError(`Facebook refused the video (${label}): ${graphMessage(error)}`, { code: `Graph${code}`, cause: error });
  }
  return undefined;
}

/** A verdict already reached below (the source's own, carried out of `fetch` as the cause of its failure). */
function deliveryErrorWithin(error: unknown): DeliveryError | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 6; depth += 1) {
    if (current instanceof DeliveryError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Decides whether a Facebook failure is worth another attempt; keeps the original as the cause. */
export function classifyFacebookError(error: unknown): DeliveryError {
  if (error instanceof GraphError) return classifyGraphError(error) ?? classifyGeneric(error, error.status);
  return deliveryErrorWithin(error) ?? classifyGeneric(error);
}
