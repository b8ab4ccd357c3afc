/** Where Dropbox's API lives: RPC calls and OAuth on `api`, uploads on `content`. */
export interface DropboxEndpoints {
  readonly api: string;
  readonly content: string;
}

export const dropboxHosts: DropboxEndpoints = {
  api: 'https://api.dropboxapi.com',
  content: 'https://content.dropboxapi.com',
};

/** The variables that move the endpoints (tests, the local runtime); never a request field. */
export const dropboxEndpointVariables = { api: 'UD_DROPBOX_API_URL', content: 'UD_DROPBOX_CONTENT_URL' } as const;

function baseUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new Error(`environment variable ${name} must be an http(s) URL, got '${value}'`, { cause: error });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`environment variable ${name} must be an http(s) URL, got '${value}'`);
  return url.href.replace(/\/$/, '');
}

/**
 * The endpoints the function's environment names, else Dropbox's own. Read once at cold start,
 * so a wrong value fails the function there rather than a delivery. They are the operator's
 * setting, not a request's: a caller who could move them would receive the app's secret with the
 * next token refresh.
 */
export function dropboxEndpointsFrom(environment: Readonly<Record<string, string | undefined>>): DropboxEndpoints {
  const api = environment[dropboxEndpointVariables.api];
  const content = environment[dropboxEndpointVariables.content];
  return {
    api: api ? baseUrl(dropboxEndpointVariables.api, api) : dropboxHosts.api,
    content: content ? baseUrl(dropboxEndpointVariables.content, content) : api ? baseUrl(dropboxEndpointVariables.api, api) : dropboxHosts.content,
  };
}
