import type { Readable } from 'node:stream';
import type { OutboundNetwork, OutgoingRequest } from '../../../shared/destination/index.ts';

/** The `error` object of a Graph API answer, as Meta documents it. */
export interface GraphProblem {
  readonly message?: string;
  readonly type?: string;
  readonly code?: number;
  readonly error_subcode?: number;
  readonly error_user_title?: string;
  readonly error_user_msg?: string;
  readonly error_data?: unknown;
  readonly is_transient?: boolean;
  readonly fbtrace_id?: string;
}

/** A Graph API call answered with an error (or with something that is not Graph's JSON). */
export class GraphError extends Error {
  public readonly status: number;
  /** Graph's error code (190, 200, 4, 6001, …); undefined when the answer was not Graph's error JSON. */
  public readonly code: number | undefined;
  public readonly subcode: number | undefined;
  public readonly problem: GraphProblem;
  /** Seconds until a throttled app, Page or user may call again, when Meta's usage headers say. */
  public readonly regainAccessSeconds: number | undefined;

  public constructor(status: number, problem: GraphProblem, regainAccessSeconds: number | undefined) {
    const code = problem.code === undefined ? '' : ` ${problem.code}${problem.error_subcode === undefined ? '' : `/${problem.error_subcode}`}`;
    super(`Graph API error${code} (HTTP ${status}): ${problem.message ?? 'no message'}`);
    this.name = 'GraphError';
    this.status = status;
    this.code = problem.code;
    this.subcode = problem.error_subcode;
    this.problem = problem;
    this.regainAccessSeconds = regainAccessSeconds;
  }

  /**
   * A number from `error_data`, where Graph answers offsets: as numbers or strings, in an object or
   * in an object serialized as a string (as some Graph errors send it).
   */
  public dataNumber(name: string): number | undefined {
    const raw = this.problem.error_data;
    const data = typeof raw === 'string' ? parsedJson(raw) : raw;
    const value = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[name] : undefined;
    const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    return typeof number === 'number' && Number.isSafeInteger(number) ? number : undefined;
  }
}

/**
 * The longest `estimated_time_to_regain_access` (minutes) in Meta's usage headers, in seconds:
 * `X-Business-Use-Case-Usage` (Page and business limits) and `X-App-Usage` carry it when throttled.
 */
function regainAccessSeconds(headers: Headers): number | undefined {
  let minutes: number | undefined;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'estimated_time_to_regain_access' && typeof inner === 'number' && inner > 0) minutes = Math.max(minutes ?? 0, inner);
        else visit(inner);
      }
    }
  };
  for (const name of ['x-business-use-case-usage', 'x-app-usage']) {
    const header = headers.get(name);
    if (!header) continue;
    try {
      visit(JSON.parse(header));
    } catch {
      // An unreadable usage header says nothing about when to come back.
    }
  }
  return minutes === undefined ? undefined : minutes * 60;
}

function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** How one Graph call is made: the guarded network, the attempt's signal, the base URL and version. */
export interface GraphConnection {
  /** The Graph API's base URL, without a trailing slash. */
  readonly endpoint: string;
  /** `v24.0`. */
  readonly version: string;
  readonly network: OutboundNetwork;
  readonly signal: AbortSignal;
}

type Query = Readonly<Record<string, string>>;

/**
 * Calls the Graph API over the destination's guarded connections. The token travels in the
 * `Authorization` header, never in a URL (URLs end up in logs and error messages). Answers are
 * Graph's JSON; an error answer throws {@link GraphError}.
 */
export class GraphClient {
  public constructor(private readonly connection: GraphConnection) {}

  /** `GET /<version>/<path>?<query>`. */
  public async get<Answer>(path: string, token: string, query: Query = {}): Promise<Answer> {
    return this.call<Answer>(path, token, query, { method: 'GET' });
  }

  /** A POST whose parameters travel URL-encoded. */
  public async postForm<Answer>(path: string, token: string, form: URLSearchParams): Promise<Answer> {
    return this.call<Answer>(path, token, {}, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  }

  /**
   * A POST whose body is `length` bytes streamed from `body`, with extra headers (`file_offset`, or
   * a `content-type` other than `application/octet-stream`).
   */
  public async postBytes<Answer>(path: string, token: string, headers: Readonly<Record<string, string>>, body: Readable | Buffer, length: number): Promise<Answer> {
    return this.call<Answer>(path, token, {}, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...headers, 'content-length': String(length) },
      body,
    });
  }

  /**
   * `path` may carry its own query: an upload session's ID (`upload:<id>?sig=<signature>`) is put
   * in the URL as Meta answers it, signature included. An error answer is kept with the token
   * taken out of its text, whatever the server echoed.
   */
  private async call<Answer>(path: string, token: string, query: Query, init: OutgoingRequest & { headers?: Record<string, string> }): Promise<Answer> {
    const { endpoint, version, network, signal } = this.connection;
    const url = new URL(`${endpoint}/${version}/${path}`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const headers = { ...init.headers, authorization: `OAuth ${token}` };
    // No redirect is followed: an answer that is not 2xx is Graph's error.
    const response = await network.fetch(url, { ...init, headers, signal });
    const text = await response.text();
    const answer = parsedJson(text);
    const failed = !response.ok || answer === undefined || (typeof answer === 'object' && answer !== null && 'error' in answer);
    if (!failed) return answer as Answer;
    const redacted = text.replaceAll(token, '[token]');
    const problem = (parsedJson(redacted) as { error?: GraphProblem } | undefined)?.error;
    throw new GraphError(response.status, typeof problem === 'object' && problem !== null ? problem : { message: redacted.slice(0, 200) || response.statusText }, regainAccessSeconds(response.headers));
  }
}
