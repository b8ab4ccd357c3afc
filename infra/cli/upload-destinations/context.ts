import type { Writable } from 'node:stream';
import { ApiClient } from './api-client.ts';
import { resolveConnection, type Connection, type ConnectionOptions } from './connection.ts';
import { ProgressBars } from './progress.ts';

/** Where the CLI writes and what it reads of its surroundings (the process's, or a test's). */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal (progress bars redraw there). */
  readonly terminal: boolean;
}

/** The exit statuses: scripts can tell a failed delivery from a bad command or an unreachable API. */
export const exitCodes = {
  ok: 0,
  /** The command ran, and what it reports failed (a delivery, a destination test, nothing to retry). */
  failed: 1,
  /** The command or the request was wrong (usage, a 400 naming fields, an unknown token). */
  badInput: 2,
  /** The API could not be reached, or answered with a server error. */
  unavailable: 3,
} as const;

export interface GlobalOptions extends ConnectionOptions {
  readonly json?: boolean;
  readonly progress?: boolean;
}

/** What every command gets: output, the connection to the API, and the user's global options. */
export class CliContext {
  private resolved: Promise<Connection> | undefined;

  public constructor(
    public readonly io: CliIo,
    private readonly options: () => GlobalOptions,
  ) {}

  public get json(): boolean {
    return this.options().json ?? false;
  }

  /** Progress bars: on a terminal unless `--no-progress`, elsewhere only with `--progress`; never with `--json`. */
  public get showsProgress(): boolean {
    return !this.json && (this.options().progress ?? this.io.terminal);
  }

  public connection(): Promise<Connection> {
    this.resolved ??= resolveConnection(this.options(), { env: this.io.env, warn: (text) => this.error(text) });
    return this.resolved;
  }

  public async client(): Promise<ApiClient> {
    return new ApiClient(await this.connection());
  }

  public progressBars(): ProgressBars | undefined {
    return this.showsProgress ? new ProgressBars(this.io.stderr, this.io.terminal) : undefined;
  }

  /** A result: human text, or with `--json` the value as one JSON document. */
  public result(value: unknown, text: string): void {
    this.io.stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
  }

  /** A note on the side (stderr), so stdout stays the result. */
  public note(text: string): void {
    if (!this.json) this.io.stderr.write(`${text}\n`);
  }

  public error(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }
}
