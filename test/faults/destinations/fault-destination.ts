import type { HttpFault, HttpFaultProxy, ProxiedExchange, RequestHead } from '../../support/fault-proxy/http-fault-proxy.ts';
import type { RuleBook } from '../../support/fault-proxy/rules.ts';
import type { ConnectionHead, TcpFaultProxy } from '../../support/fault-proxy/tcp-fault-proxy.ts';

/** What landed for one delivery, as the destination's server holds it. */
export interface Landed {
  /** How many times a complete file was written under the delivery's name (a second version, video or file counts). */
  readonly writes: number;
  /** SHA-256 of what stands under the name now; undefined when nothing does. */
  readonly sha256: string | undefined;
}

/** A point in the server's records, to count what came after it. */
export type Mark = number;

/**
 * A destination as the fault run drives it: its server (real, or a protocol-faithful fake) with a
 * fault proxy in front, the `destination` object that delivers there through the proxy, and what
 * the server holds, counted on its side. Adding a destination to the run is one of these.
 */
export interface FaultDestination {
  readonly type: string;
  /** Variables the functions need to find the server (set before the runtime starts). */
  readonly environment: Readonly<Record<string, string>>;
  /** The request's `destination` for a delivery named `name` (a unique, path-safe name). */
  destination(name: string): Record<string, unknown>;
  /** What the server holds under `name`. */
  landed(name: string): Promise<Landed>;
  /** Partial results the server holds now: open multipart uploads, staged blocks, temporary files, open sessions. */
  leftovers(): Promise<string[]>;
  /** A mark in the server's records. */
  mark(): Mark;
  /** File bytes that reached the server in uploads since `mark`, resent ones included. */
  uploadBytesSince(mark: Mark): number;
  /** The most uploads that were open at the server at once since `mark`, and which. */
  peakConcurrentUploadsSince(mark: Mark): ConcurrencyPeak;
  /** How its traffic is faulted. */
  readonly faults: HttpFaults | TcpFaults;
  close(): Promise<void>;
}

/** A destination spoken to over HTTP: faults are aimed per request. */
export interface HttpFaults {
  readonly kind: 'http';
  readonly proxy: HttpFaultProxy;
  /** Whether a request carries file bytes (where resets and stalls are aimed). */
  isUpload(head: RequestHead): boolean;
  /** Whether a request's success makes the file land (where an answer is lost). */
  isCommit(head: RequestHead): boolean;
  /** The server's answer when it is unavailable (a 500 or 503, in its own words). */
  unavailable(status: 500 | 503): HttpFault;
  /** Its answer when it throttles, asking to wait `seconds`. */
  throttled(seconds: number): HttpFault;
}

/** A destination spoken to over a stream the proxy does not read (SSH, FTP): faults are aimed per connection. */
export interface TcpFaults {
  readonly kind: 'tcp';
  readonly proxy: TcpFaultProxy;
  /** Whether a connection carries file bytes (SSH's one connection; FTP's data connections, not its control connection). */
  isUpload(connection: ConnectionHead): boolean;
  /**
   * Answers of the request that makes the file, lost by the server itself after it did the work
   * (a hook in FTP's server: the proxy cannot find one answer in the stream); absent where the
   * server has no such hook (sshd).
   */
  readonly commitAnswers?: RuleBook<CommittedFile, 'lost' | 'withheld'>;
}

/** A file the server is about to make (renamed onto its name), for a lost-answer rule to match. */
export interface CommittedFile {
  /** The path the client named. */
  readonly path: string;
}

/**
 * Something that was open from `startedAt` until `endedAt` (undefined while still open), or until
 * a stall stopped it, or until its client was gone.
 */
export interface Interval {
  readonly startedAt: number;
  readonly endedAt: number | undefined;
  readonly stalledAt: number | undefined;
  readonly clientGoneAt: number | undefined;
}

/** The most uploads open at once, and the uploads open then. */
export interface ConcurrencyPeak {
  readonly peak: number;
  readonly uploads: readonly string[];
}

/**
 * The most uploads open at once among requests or connections: each counts for the upload it
 * belongs to (`uploadOf`; undefined for traffic that is no upload), from when it opened to when it
 * ended, so parts of one upload in flight together count once. One the proxy stalled counts until
 * it stalled, and one whose client's function environment ended counts until then: past that, a
 * server that stops reading cannot see its client leave, and would count it until its own idle
 * timeout (or until it has read what the proxy holds of it), while no client sends it any more.
 */
export function peakConcurrentUploads<T extends Interval>(items: readonly T[], uploadOf: (item: T) => string | undefined): ConcurrencyPeak {
  const events: { at: number; upload: string; delta: 1 | -1 }[] = [];
  for (const item of items) {
    const upload = uploadOf(item);
    if (upload === undefined) continue;
    const ended = Math.min(item.stalledAt ?? Infinity, item.clientGoneAt ?? Infinity, item.endedAt ?? Date.now());
    events.push({ at: item.startedAt, upload, delta: 1 }, { at: ended, upload, delta: -1 });
  }
  // Ends before starts at the same millisecond: a request that follows another is not overlap.
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  const open = new Map<string, number>();
  let peak: ConcurrencyPeak = { peak: 0, uploads: [] };
  for (const event of events) {
    const count = (open.get(event.upload) ?? 0) + event.delta;
    if (count === 0) open.delete(event.upload);
    else open.set(event.upload, count);
    if (open.size > peak.peak) peak = { peak: open.size, uploads: [...open.keys()] };
  }
  return peak;
}

/** Body bytes of the upload requests among the exchanges since `mark`. */
export function uploadBytes(proxy: HttpFaultProxy, mark: Mark, isUpload: (head: RequestHead) => boolean): number {
  return proxy.exchanges.slice(mark).reduce((sum, exchange) => (isUpload(exchange) ? sum + exchange.requestBytes : sum), 0);
}

/**
 * The number a delivery's name ends with (`reset-ftp-2.bin` → 2; 1 when there is none): a
 * destination with two ways to upload takes one for odd numbers and the other for even ones, so
 * each scenario with two deliveries or more meets both.
 */
export function deliveryNumber(name: string): number {
  return Number(/(\d+)\.[^.]*$/.exec(name)?.[1] ?? 1);
}

/** Whether an exchange was answered with a 2xx by the server. */
export function succeeded(exchange: ProxiedExchange): boolean {
  return exchange.status !== undefined && exchange.status >= 200 && exchange.status < 300;
}

const requestKeys = new WeakMap<object, string>();
let requestSequence = 0;

/** A key of its own for one request: for uploads that are one request, each counts apart. */
export function requestKey(exchange: object): string {
  let key = requestKeys.get(exchange);
  if (key === undefined) {
    key = `request-${(requestSequence += 1)}`;
    requestKeys.set(exchange, key);
  }
  return key;
}
