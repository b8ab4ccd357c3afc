import type { Readable } from 'node:stream';
import type { DeliveryError } from '../errors.ts';
import type { OutboundNetwork } from '../net/outbound-network.ts';

/** The file being delivered, opened as a stream. */
export interface OpenedSource {
  readonly stream: Readable;
  /** Byte length when the source tells it (Content-Length); uploads size their parts from it. */
  readonly size: number | undefined;
  readonly contentType: string | undefined;
  /** The source's file name, for destinations whose filename names a folder. */
  readonly name: string;
}

/** Where the delivered bytes ended up and what exactly was sent. */
export interface UploadResult {
  /** The URL (or path) of the delivered file, as the job answers it. */
  readonly url: string;
  readonly bytes: number;
  /** Checksum of every byte sent, computed while streaming. */
  readonly checksum: { readonly algorithm: 'crc32'; readonly value: string };
  /** Destination-specific facts worth recording (an ETag, a video ID, …). */
  readonly details?: Readonly<Record<string, string | number>>;
}

export interface UploadContext<Destination> {
  /** The validated destination with its secret fields filled in. */
  readonly destination: Destination;
  readonly source: OpenedSource;
  /** Aborted when the function is about to time out; uploads stop and clean up. */
  readonly signal: AbortSignal;
  /**
   * Where the upload may connect: every connection to the destination goes through agents or the
   * dispatcher made from it (`shared/net`), so private networks stay out of reach when deployed.
   */
  readonly network: OutboundNetwork;
}

/**
 * A destination's upload code: one per destination folder. `upload` streams the source to the
 * destination and leaves nothing partial behind when it fails; `classify` turns whatever a failure
 * threw into a permanent or transient {@link DeliveryError}, keeping it as the cause.
 */
export interface Uploader<Destination> {
  upload(context: UploadContext<Destination>): Promise<UploadResult>;
  classify(error: unknown): DeliveryError;
}
