import { randomUUID } from 'node:crypto';
import type { Agent, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { guardedHttpAgent, guardedHttpsAgent, type NetworkPolicy } from '../../../shared/destination/index.ts';
import type { StorageAccount } from './account.ts';
import { AzureStorageError, isWorthResending } from './errors.ts';
import { sharedKeyAuthorization } from './shared-key.ts';

/**
 * The Blob service REST version every request asks for: 4,000 MiB blocks and tags on upload
 * (2019-12-12), the Cold tier (2021-12-02).
 */
export const serviceVersion = '2025-01-05';

/** One Blob service request: where, what, and the body (sent as is, and again if it is retried). */
export interface BlobRequest {
  /** Names the request in errors: `Put Block`, `Get Block List`… */
  readonly operation: string;
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'DELETE';
  /** The resource URL without SAS: a blob's URL, with its own query (`comp=block&blockid=…`). */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /**
   * For a write that must take effect once (Put Blob, Put Block List): looks for its effect before
   * the request is sent again after a failure it may have been carried out despite (no answer, a
   * 5xx). What it finds is the request's answer; undefined sends the request again.
   */
  readonly landed?: () => Promise<BlobResponse | undefined>;
}

/** A successful answer: status, headers (lower-case names) and the body as text (small XML answers only). */
export interface BlobResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly text: string;
}

/** How hard a request is tried before its failure goes to the delivery's own retries. */
export interface TransportSettings {
  /** Tries of one request in all. @default 3 */
  readonly tries: number;
  /** Wait before the second try; doubles with each. @default 1000 */
  readonly firstRetryDelayMs: number;
  /** A `Retry-After` longer than this ends the tries: the delivery waits instead. @default 30000 */
  readonly longestRetryAfterMs: number;
  /** An idle socket fails the request after this long. @default 120000 */
  readonly idleTimeoutMs: number;
}

export const defaultTransportSettings: TransportSettings = { tries: 3, firstRetryDelayMs: 1000, longestRetryAfterMs: 30_000, idleTimeoutMs: 120_000 };

/** Sockets per agent: enough for every block in flight of a few deliveries. */
const maxSockets = 16;

/** Body slices written to the socket: TLS then encrypts as the socket drains, never a whole block at once. */
const sliceBytes = 1024 * 1024;

/** Kept across deliveries of a warm function, one pair per network policy (a function has one). */
const agentsByNetwork = new WeakMap<NetworkPolicy, { http: Agent; https: Agent }>();

function agentsFor(network: NetworkPolicy): { http: Agent; https: Agent } {
  let agents = agentsByNetwork.get(network);
  if (!agents) {
    agents = { http: guardedHttpAgent(network, { maxSockets }), https: guardedHttpsAgent(network, { maxSockets }) };
    agentsByNetwork.set(network, agents);
  }
  return agents;
}

const errorCodeInXml = /<Code>([^<]*)<\/Code>/;
const messageInXml = /<Message>([^<]*)<\/Message>/;

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The service's message without its `RequestId:…` and `Time:…` lines. */
function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0]?.trim() ?? '';
}

async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function writeBody(outgoing: ReturnType<typeof httpRequest>, body: Buffer | undefined): Promise<void> {
  for (let offset = 0; body !== undefined && offset < body.length; offset += sliceBytes) {
    if (!outgoing.write(body.subarray(offset, offset + sliceBytes))) {
      await new Promise<void>((resolve, reject) => {
        const settle = (error?: Error): void => {
          outgoing.off('drain', settle);
          outgoing.off('close', settle);
          outgoing.off('error', settle);
          if (error) reject(error);
          else resolve();
        };
        outgoing.once('drain', settle);
        outgoing.once('close', settle);
        outgoing.once('error', settle);
      });
    }
    if (outgoing.destroyed) return;
  }
  outgoing.end();
}

/** Whether a failed request may have been carried out all the same: no answer came, or the service failed on its side. */
function outcomeUnknown(error: unknown): boolean {
  return !(error instanceof AzureStorageError) || error.status >= 500;
}

/**
 * Sends Blob service requests for one account: signs them with the account key (Shared Key) or
 * adds the SAS token, connects only through agents made from `network`, and tries a request again
 * (after the service's `Retry-After`, else 1 s, 2 s…) when it failed in a way that the same request
 * may get past: a dropped connection, a timeout, 500, 503 `ServerBusy`, a block damaged in transit.
 */
export class BlobTransport {
  public constructor(
    private readonly account: StorageAccount,
    private readonly network: NetworkPolicy,
    private readonly settings: TransportSettings = defaultTransportSettings,
  ) {}

  /** Sends `request` (again, if worth it) until it succeeds; throws an {@link AzureStorageError} for an error answer. */
  public async send(request: BlobRequest, signal: AbortSignal): Promise<BlobResponse> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.sendOnce(request, signal);
      } catch (error) {
        const delayMs = this.retryDelayMs(error, attempt);
        if (delayMs === undefined || signal.aborted) throw error;
        await sleep(delayMs, undefined, { signal });
        const found = request.landed && outcomeUnknown(error) ? await request.landed() : undefined;
        if (found) return found;
      }
    }
  }

  private retryDelayMs(error: unknown, attempt: number): number | undefined {
    if (attempt >= this.settings.tries || !isWorthResending(error)) return undefined;
    const retryAfter = error instanceof AzureStorageError && error.retryAfter !== undefined ? Number(error.retryAfter) * 1000 : undefined;
    if (retryAfter !== undefined && Number.isFinite(retryAfter)) return retryAfter <= this.settings.longestRetryAfterMs ? retryAfter : undefined;
    return this.settings.firstRetryDelayMs * 2 ** (attempt - 1);
  }

  private async sendOnce(request: BlobRequest, signal: AbortSignal): Promise<BlobResponse> {
    const url = new URL(request.url);
    const headers: Record<string, string> = {
      'x-ms-version': serviceVersion,
      'x-ms-date': new Date().toUTCString(),
      'x-ms-client-request-id': randomUUID(),
      'content-length': String(request.body?.length ?? 0),
      ...request.headers,
    };
    const credential = this.account.credential;
    if (credential.kind === 'key') {
      headers.authorization = sharedKeyAuthorization(this.account.name, credential.key, { method: request.method, url, headers });
    } else {
      url.search = url.search ? `${url.search}&${credential.token}` : `?${credential.token}`;
    }
    const secure = url.protocol === 'https:';
    const agents = agentsFor(this.network);
    const send = secure ? httpsRequest : httpRequest;
    return new Promise<BlobResponse>((resolve, reject) => {
      let answered = false;
      const outgoing = send(
        url,
        { method: request.method, headers, agent: secure ? agents.https : agents.http, signal, timeout: this.settings.idleTimeoutMs },
        (response) => {
          answered = true;
          readText(response).then((text) => {
            const status = response.statusCode ?? 0;
            const responseHeaders = Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, headerText(value)]));
            if (status >= 200 && status < 300) {
              resolve({ status, headers: responseHeaders, text });
              return;
            }
            const code = responseHeaders['x-ms-error-code'] ?? errorCodeInXml.exec(text)?.[1] ?? `HTTP${status}`;
            reject(
              new AzureStorageError(request.operation, status, code, firstLine(messageInXml.exec(text)?.[1]), responseHeaders['x-ms-request-id'], responseHeaders['retry-after']),
            );
          }, reject);
        },
      );
      outgoing.once('timeout', () => outgoing.destroy(Object.assign(new Error(`${request.operation}: no answer for ${this.settings.idleTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
      // A service that refuses a request may answer before it has read the body, then close: the
      // answer says why, not the broken write that follows it.
      outgoing.on('error', (error) => {
        if (!answered) reject(error);
      });
      writeBody(outgoing, request.body).catch((error: unknown) => outgoing.destroy(error as Error));
    });
  }
}
