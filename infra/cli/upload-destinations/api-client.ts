import type { Connection } from './connection.ts';

/** One offending field of a refused request, as the API names it. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** An answer the API gave other than the one asked for (4xx, 5xx), with what it said. */
export class ApiError extends Error {
  public constructor(
    public readonly status: number,
    public readonly body: Record<string, unknown>,
  ) {
    super(`${typeof body.message === 'string' ? body.message : `the API answered ${status}`}${typeof body.error === 'string' ? ` (${body.error})` : ''}`);
    this.name = 'ApiError';
  }

  /** The fields a 400 names, each by its path. */
  public get fields(): readonly FieldProblem[] {
    return Array.isArray(this.body.errors) ? (this.body.errors as FieldProblem[]) : [];
  }
}

/** The API could not be reached at all. */
export class UnreachableError extends Error {
  public constructor(api: string, cause: unknown) {
    super(`cannot reach the API at ${api}: ${(cause as Error).cause instanceof Error ? ((cause as Error).cause as Error).message : (cause as Error).message}`, { cause });
    this.name = 'UnreachableError';
  }
}

export interface Answer<Body> {
  readonly status: number;
  readonly body: Body;
}

/** The service's HTTP API, as the CLI uses it: JSON in, JSON out, the key in `x-api-key`. */
export class ApiClient {
  public constructor(private readonly connection: Connection) {}

  /**
   * Sends a request and returns its answer when its status is one of `accepted` (any 2xx by
   * default); any other answer is an {@link ApiError}.
   */
  public async request<Body = Record<string, unknown>>(method: 'GET' | 'POST', path: string, body?: unknown, accepted?: readonly number[]): Promise<Answer<Body>> {
    let response: Response;
    try {
      response = await fetch(`${this.connection.api}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.connection.apiKey ? { 'x-api-key': this.connection.apiKey } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      throw new UnreachableError(this.connection.api, error);
    }
    const text = await response.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    const ok = accepted ? accepted.includes(response.status) : response.ok;
    if (!ok) throw new ApiError(response.status, parsed);
    return { status: response.status, body: parsed as Body };
  }
}
