/** Where Google's APIs are: the YouTube Data API (uploads and metadata) and the OAuth token endpoint. */
export interface GoogleEndpoints {
  /** Root of `/upload/youtube/v3/…` and `/youtube/v3/…`, without a trailing slash. */
  readonly apiUrl: string;
  /** The OAuth 2.0 token endpoint (refresh_token and authorization_code grants). */
  readonly tokenUrl: string;
}

export const googleEndpoints: GoogleEndpoints = {
  apiUrl: 'https://www.googleapis.com',
  tokenUrl: 'https://oauth2.googleapis.com/token',
};

function httpUrl(name: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new Error(`environment variable ${name} must be an http(s) URL, got '${text}'`, { cause: error });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`environment variable ${name} must be an http(s) URL, got '${text}'`);
  return url.href.replace(/\/$/, '');
}

/**
 * Google's endpoints, or where the environment moves them: `UD_YOUTUBE_API_URL` and
 * `UD_GOOGLE_TOKEN_URL`, read once at cold start. Only whoever deploys or runs the service sets
 * them (tests and the local runtime point them at a fake); no request field can, and a deployed
 * service connects only to public addresses whatever they say.
 */
export function googleEndpointsFrom(environment: Readonly<Record<string, string | undefined>>): GoogleEndpoints {
  const apiUrl = environment.UD_YOUTUBE_API_URL;
  const tokenUrl = environment.UD_GOOGLE_TOKEN_URL;
  return {
    apiUrl: apiUrl ? httpUrl('UD_YOUTUBE_API_URL', apiUrl) : googleEndpoints.apiUrl,
    tokenUrl: tokenUrl ? httpUrl('UD_GOOGLE_TOKEN_URL', tokenUrl) : googleEndpoints.tokenUrl,
  };
}
