import type { Readable } from 'node:stream';
import type { DeliveryError } from '../errors.ts';
import type { OutboundNetwork } from '../net/outbound-network.ts';

/** A part of the source cut for a chunked upload, with its own CRC-32 (to send with it). */
export interface SourcePart {
  readonly bytes: Buffer;
  /** The part's offset in the file. */
  readonly offset: number;
  /** CRC-32 of `bytes`, big-endian, base64, as stores take it. */
  readonly crc32: string;
  /** Hands the part's buffer back for reuse once it has been sent (optional; saves allocations). */
  release(): void;
}

/** One read of a part of the source, on its own connection. */
export interface SourceRangeRead {
  readonly stream: Readable;
  /** CRC-32 of the part (big-endian, base64), once its last byte has been taken from `stream`; undefined before. */
  crc32(): string | undefined;
}

/** A part of the source that can be read by itself (a ranged request), as often as it must be sent. */
export interface SourceRange {
  /** The part's offset in the file. */
  readonly offset: number;
  readonly length: number;
  /** Reads the part's bytes (again, for a part sent again after a failure). */
  open(): Promise<SourceRangeRead>;
}

/** Where to start reading the source, for an upload that continues an earlier attempt. */
export interface SourceStart {
  /** Bytes of the file already at the destination. */
  readonly offset: number;
  /**
   * CRC-32 of those bytes, when the destination reports it (S3's parts, Azure's block ids): the
   * source is then read from `offset` on. Without it the service reads and sums the bytes before
   * `offset` without sending them, so the recorded checksum still covers the whole file.
   */
  readonly crc32?: number;
}

/**
 * The file being delivered. The service counts and checksums every byte an upload reads (so a
 * destination computes no checksum of its own), shows the count while the upload runs, and fails
 * the read when the source ends before or after its announced size. Read it once per attempt,
 * as a stream, as parts, or as parts each read by itself.
 */
export interface DeliverySource {
  /** Byte length when the source tells it (Content-Length); uploads size their parts from it. */
  readonly size: number | undefined;
  readonly contentType: string | undefined;
  /** The source's file name (with the job's extension when it had none). */
  readonly name: string;
  /** The bytes from `start` (default: the beginning) as a stream. */
  stream(start?: SourceStart): Promise<Readable>;
  /**
   * The CRC-32 of the whole file (base64, big-endian) once a read has passed its last byte, when
   * that byte has been taken from the stream; undefined before. A checksum sent after the body (a
   * trailer) takes it from here instead of summing every byte a second time.
   */
  readonly checksum: { readonly algorithm: 'crc32'; readonly value: string; readonly bytes: number } | undefined;
  /**
   * The bytes from `start` cut into parts of `lengthOf(index)` bytes (the last may be shorter; a
   * known size cuts the last part to what remains), each a buffer of its own from `allocate`,
   * taken only when its first byte arrives. The source is read no faster than parts are taken.
   */
  parts(lengthOf: (index: number) => number, start?: SourceStart): AsyncGenerator<SourcePart>;
  /**
   * The bytes from `start` cut as `parts` cuts them, each part to be read on its own, so an upload
   * sends several parts at once straight from the source and holds none of them. Undefined when
   * the source cannot be read so: its size unknown, or byte ranges of the same version not
   * promised (a URL without `Accept-Ranges: bytes` and a strong ETag), or a start whose CRC-32
   * the destination does not report (nothing is read then). Parts given count as the attempt's
   * one read, as `stream` and `parts` do.
   */
  rangedParts?(lengthOf: (index: number) => number, start?: SourceStart): readonly SourceRange[] | undefined;
}

/** What an earlier attempt of this delivery saved to continue from, and how to save more. */
export interface ResumeSlot<State> {
  /** The state an earlier attempt saved for this same source, or undefined. */
  readonly state: State | undefined;
  /** Saves `state` for a later attempt (sealed when the definition says it is a capability). */
  save(state: State): Promise<void>;
  /**
   * When this delivery's first attempt began, if this attempt is not the first (undefined
   * otherwise). An earlier attempt may have made the file with a request whose answer it never
   * saw, before it could save anything: a file of the source's size written since then may be it.
   */
  readonly earlierAttemptsSince?: Date;
}

/**
 * The callers' stored credentials (secrets under the `credentials/` sub-prefix), for destinations
 * whose fields name them (`auth_secret`) or whose credentials change as they are used.
 */
export interface StoredCredentials {
  /** The `credentials` reference, when the destination named one (its fields are already filled in). */
  readonly reference: string | undefined;
  /** Reads the stored credentials a field such as `auth_secret` names. */
  read(reference: string): Promise<Readonly<Record<string, unknown>>>;
  /** Writes changed fields (a rotated refresh token) back, keeping the secret's other fields. */
  update(reference: string, fields: Readonly<Record<string, string>>): Promise<void>;
}

export interface UploadContext<Destination, State = never> {
  /**
   * The validated destination with its secret fields filled in and a folder `filename` (ending
   * in `/`) already completed with the source's name.
   */
  readonly destination: Destination;
  readonly source: DeliverySource;
  /** Aborted when the function is about to time out: stop, save what a next attempt needs, and throw. */
  readonly signal: AbortSignal;
  /**
   * Where the upload may connect: every connection to the destination goes through agents or the
   * its `fetch` (`shared/net`), so private networks stay out of reach when deployed.
   */
  readonly network: OutboundNetwork;
  readonly resume: ResumeSlot<State>;
  readonly credentials: StoredCredentials;
  /** The destination's application secret (an OAuth client), when its definition names one. */
  readonly application: Readonly<Record<string, string>> | undefined;
  /**
   * Names this delivery the same way in every attempt, and nothing else (an opaque digest of the
   * job and the destination's index): for protocols that let a server recognise a request sent
   * again, such as HTTP's `Idempotency-Key`.
   */
  readonly deliveryKey?: string;
}

/** Where the delivered file ended up. Bytes and checksum are recorded by the service from what was read. */
export interface UploadResult {
  /** The URL (or path) of the delivered file, as the job answers it. */
  readonly url: string;
  /** Destination-specific facts worth recording (an ETag, a video ID, …). */
  readonly details?: Readonly<Record<string, string | number>>;
  /** Things the user should know about how it was delivered (e.g. passive mode instead of active). */
  readonly notes?: readonly string[];
}

/** What an uploader needs to reach its destination outside an upload (to discard, to probe). */
export interface DestinationAccess<Destination> {
  readonly destination: Destination;
  readonly signal: AbortSignal;
  readonly network: OutboundNetwork;
  /** The stored credentials its fields may name (an OAuth refresh token behind `auth_secret`). */
  readonly credentials?: StoredCredentials;
  /** Its application secret, when its definition names one. */
  readonly application?: Readonly<Record<string, string>> | undefined;
}

/** One check of a destination test (reachability, credentials, permission to write). */
export interface ProbeCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * A destination's upload code: one per destination folder. `upload` streams the source to the
 * destination and never leaves a partial file under the final name; `classify` turns whatever a
 * failure threw into a permanent or transient {@link DeliveryError}, keeping it as the cause. The
 * optional methods are the capabilities its definition declares.
 */
export interface Uploader<Destination, State = never> {
  upload(context: UploadContext<Destination, State>): Promise<UploadResult>;
  classify(error: unknown): DeliveryError;
  /** `resumable`: removes what a resume state holds (aborts the multipart upload, deletes the temporary file). */
  discard?(context: DestinationAccess<Destination> & { readonly state: State }): Promise<void>;
  /** `probe`: checks the destination the way a delivery would, without delivering. */
  probe?(context: DestinationAccess<Destination>): Promise<readonly ProbeCheck[]>;
  /** `pooledConnections`: closes kept connections (before the function instance is frozen for long). */
  shutdown?(): Promise<void>;
}
