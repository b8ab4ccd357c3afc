import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the CLI sends its requests, and with which key. */
export interface Connection {
  /** The API's base URL, without a trailing slash. */
  readonly api: string;
  /** Sent as `x-api-key`; a deployed stack needs it, the local runtime does not. */
  readonly apiKey: string | undefined;
  /** The AWS region of a deployed stack (for redrive), when the profile names one. */
  readonly region: string | undefined;
  /** True for the local runtime (an API on loopback). */
  readonly local: boolean;
}

/** A named profile in the profile file: `{ "profiles": { "prod": { "api": "…", "api_key": "…", "region": "…" } } }`. */
interface Profile {
  readonly api?: string;
  readonly api_key?: string;
  readonly region?: string;
}

export interface ConnectionOptions {
  readonly api?: string;
  readonly profile?: string;
}

/** What the CLI reads from its surroundings, passed in so tests can set it. */
export interface Surroundings {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Told about a profile file others may read. */
  readonly warn: (text: string) => void;
}

/** A problem with what the user gave: printed as it is, exit status 2. */
export class UsageError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function profileFile(env: Surroundings['env']): string {
  return env.UPLOAD_DESTINATIONS_CONFIG ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'upload-destinations', 'config.json');
}

async function readProfile(name: string, surroundings: Surroundings): Promise<Profile> {
  const path = profileFile(surroundings.env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`profile '${name}': cannot read ${path} (${(error as Error).message})`);
  }
  // An API key is a credential: a file others can read gives it away, as ssh says of its keys.
  if (((await stat(path)).mode & 0o077) !== 0) surroundings.warn(`warning: ${path} can be read by other users; chmod 600 it`);
  let profiles: unknown;
  try {
    profiles = (JSON.parse(text) as { profiles?: unknown }).profiles;
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
  const profile = (profiles as Record<string, unknown> | undefined)?.[name];
  if (typeof profile !== 'object' || profile === null) throw new UsageError(`profile '${name}' is not in ${path}`);
  return profile as Profile;
}

/**
 * The URL an option gives, or a {@link UsageError} naming the option. A URL with a user name or
 * password is refused without being repeated: the error would print the password.
 */
export function httpUrlOption(option: string, value: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url && (url.username !== '' || url.password !== '')) throw new UsageError(`${option} must not carry a user name or password`);
  if (!url || !/^https?:$/.test(url.protocol)) throw new UsageError(`${option} must be an http(s) URL, got '${value}'`);
  return url;
}

function isLoopback(api: string): boolean {
  const host = new URL(api).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/**
 * The API to talk to: `--api`, else `UPLOAD_DESTINATIONS_API`, else the profile's (`--profile` or
 * `UPLOAD_DESTINATIONS_PROFILE`), else the local runtime (`http://127.0.0.1:$PORT`, 3000 by
 * default). The key comes from `UPLOAD_DESTINATIONS_API_KEY`, else the profile, never from the
 * command line (where other users' `ps` would show it).
 */
export async function resolveConnection(options: ConnectionOptions, surroundings: Surroundings): Promise<Connection> {
  const { env } = surroundings;
  const profileName = options.profile ?? env.UPLOAD_DESTINATIONS_PROFILE;
  const profile = profileName ? await readProfile(profileName, surroundings) : {};
  const api = (options.api ?? env.UPLOAD_DESTINATIONS_API ?? profile.api ?? `http://127.0.0.1:${env.PORT ?? 3000}`).replace(/\/+$/, '');
  httpUrlOption('--api', api);
  return {
    api,
    apiKey: env.UPLOAD_DESTINATIONS_API_KEY ?? profile.api_key,
    region: profile.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    local: isLoopback(api),
  };
}
