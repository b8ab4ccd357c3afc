import { Readable } from 'node:stream';
import type { OpenableSource } from '../contract/source.ts';
import { classifyGeneric } from '../delivery/classify.ts';
import { PermanentError, TransientError } from '../errors.ts';
import { hostOf } from '../net/address-policy.ts';
import { hostMatches } from '../net/host-patterns.ts';
import type { OutboundNetwork } from '../net/outbound-network.ts';
import { getOfUrl, guardedReadingConnect, pooledGet, type ReadingConnect } from '../net/pooled-get.ts';
import { redactUrl } from '../net/redact.ts';
import { isRedirectAllowed } from '../net/redirects.ts';
import { nameOfObjectSource, nameOfUrlSource } from './file-name.ts';
import { rangeHeaders, s3ErrorCode, type GetStagingObject, type ReadBounds, type SourceAnswer } from './staging-objects.ts';

export interface SourcePolicy {
  /** When not empty, the only hosts a source URL may name. */
  readonly allowedSourceHosts: readonly string[];
}

const maxRedirects = 5;

function contentLength(value: string | null | undefined | number): number | undefined {
  const length = Number(value);
  return value === null || value === undefined || value === '' || !Number.isSafeInteger(length) ? undefined : length;
}

/** `bytes 100-199/1000` → where the answer starts and the whole file's size (undefined when `*`). */
function contentRange(header: string | null | undefined): { start: number; size: number | undefined } | undefined {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header ?? '');
  if (!match) return undefined;
  return { start: Number(match[1]), size: match[2] === '*' ? undefined : Number(match[2]) };
}

/** The whole file's size a 416 answer names in its `Content-Range` (`bytes *` then `/1000`). */
function unsatisfiedSize(header: string | undefined): number | undefined {
  const match = /^bytes \*\/(\d+)$/.exec(header ?? '');
  return match ? Number(match[1]) : undefined;
}

/** A source's bytes as opened: from the beginning, or from `startsAt` when the source honoured a range. */
export interface OpenedBody {
  readonly stream: Readable;
  /** Where `stream` starts in the file. */
  readonly startsAt: number;
  /** The whole file's byte length, when the source tells it. */
  readonly size: number | undefined;
  readonly contentType: string | undefined;
  /** The source's file name, for destinations whose filename names a folder. */
  readonly name: string;
  /** The source's version (a strong ETag, else Last-Modified): a resumed upload continues only the same file. */
  readonly version: string | undefined;
  /**
   * Whether parts of this same version can be read by themselves (bounded ranges, `If-Match` its
   * ETag): an object of a bucket, or a URL whose answer said `Accept-Ranges: bytes` with a strong ETag.
   */
  readonly ranges?: boolean;
}

/**
 * The source changed while it was read: a part of the same version is no longer there (412), or a
 * continued read answered another version.
 */
export function changedWhileRead(where: string): TransientError {
  return new TransientError(`${where} changed while it was being read`, { code: 'SourceChanged' });
}

/**
 * The source answered a range with bytes that cannot be placed where it was asked for: joined at
 * the offset, they would leave a gap in the file or repeat part of it.
 */
export function rangeNotAnswered(where: string, what: string): TransientError {
  return new TransientError(`${where} did not answer ${what}`, { code: 'SourceRangeIgnored' });
}

/**
 * Opens a job's source as a stream: an HTTP(S) URL (redirects followed, each hop checked against
 * the source policy and never from https down to http; every connection made through the
 * network's guard) or an object in a bucket the service may read. Both are read by
 * {@link pooledGet}, into reused buffers.
 */
export class SourceOpener {
  /** How a URL's GET connects: through the network's guard, its body read into reused buffers. */
  private readonly connect: ReadingConnect;

  public constructor(
    private readonly getObject: GetStagingObject,
    network: OutboundNetwork,
    private readonly policy: SourcePolicy,
  ) {
    this.connect = guardedReadingConnect(network);
  }

  /**
   * Opens the source's bytes from `offset` (a ranged request: HTTP `Range`, or a ranged GET of the
   * object), up to `bounds.end` of the version `bounds` names when given. A source that ignores the
   * range answers from the beginning; `startsAt` says which.
   */
  public async open(source: OpenableSource, extension: string | undefined, signal: AbortSignal, offset = 0, bounds?: ReadBounds): Promise<OpenedBody> {
    if ('url' in source) return this.openUrl(source.url, extension, signal, offset, bounds);
    return this.openObject(source.bucket, source.key, extension, signal, offset, bounds);
  }

  private checkHost(url: string): void {
    const host = hostOf(url).toLowerCase();
    const { allowedSourceHosts } = this.policy;
    if (allowedSourceHosts.length > 0 && !hostMatches(host, allowedSourceHosts)) {
      throw new PermanentError(`source.url: host '${host}' is not among the allowed source hosts`, { code: 'SourceHostNotAllowed' });
    }
  }

  private async openUrl(address: string, extension: string | undefined, signal: AbortSignal, offset: number, bounds: ReadBounds | undefined): Promise<OpenedBody> {
    let url = address;
    for (let hop = 0; hop <= maxRedirects; hop += 1) {
      this.checkHost(url);
      let response: SourceAnswer;
      try {
        response = await pooledGet(getOfUrl(new URL(url), rangeHeaders(offset, bounds), signal), this.connect);
      } catch (error) {
        throw classifyGeneric(new Error(`source ${redactUrl(url)}: ${(error as Error).message}`, { cause: error }));
      }
      const status = response.statusCode ?? 502;
      const location = headerOf(response, 'location');
      if (status >= 300 && status < 400 && location) {
        response.resume();
        const next = new URL(location, url).toString();
        if (!isRedirectAllowed(url, next)) {
          throw new PermanentError(`source ${redactUrl(url)}: refused to follow its redirect to ${redactUrl(next)} (http or https only, and never from https to http)`, {
            code: 'RedirectNotAllowed',
          });
        }
        url = next;
        continue;
      }
      // Another file now: a part's version is gone (412), or the file is shorter (416) than where the
      // read continues, which is always a byte the file had.
      const remaining = status === 416 && offset > 0 ? unsatisfiedSize(headerOf(response, 'content-range')) : undefined;
      if ((status === 412 && bounds?.version !== undefined) || (remaining !== undefined && remaining < offset)) {
        response.resume();
        throw changedWhileRead(`source ${redactUrl(url)}`);
      }
      const name = nameOfUrlSource(new URL(url).pathname, headerOf(response, 'content-disposition'), extension);
      if (remaining === offset && bounds === undefined) {
        // Continued from the very end of a file whose size its first answer did not tell: a range
        // from there is unsatisfiable, yet nothing is wrong; nothing is left to read.
        response.resume();
        return { stream: Readable.from([]), startsAt: offset, size: offset, contentType: undefined, name, version: versionOf(response) };
      }
      if (status < 200 || status >= 300) {
        response.resume();
        throw classifyGeneric(new Error(`source ${redactUrl(url)} answered HTTP ${status}`), status, headerOf(response, 'retry-after'));
      }
      const ranges = headerOf(response, 'accept-ranges')?.toLowerCase() === 'bytes' && strongETag(response) !== undefined;
      return openedBody(response, `source ${redactUrl(url)}`, name, versionOf(response), ranges);
    }
    throw new PermanentError(`source ${redactUrl(address)}: more than ${maxRedirects} redirects`, { code: 'TooManyRedirects' });
  }

  private async openObject(bucket: string, key: string, extension: string | undefined, signal: AbortSignal, offset: number, bounds: ReadBounds | undefined): Promise<OpenedBody> {
    const where = `source s3://${bucket}/${key}`;
    let response: SourceAnswer;
    try {
      response = await this.getObject(bucket, key, offset, signal, bounds);
    } catch (error) {
      throw classifyGeneric(new Error(`${where}: ${(error as Error).message}`, { cause: error }));
    }
    const status = response.statusCode ?? 502;
    if (status !== 200 && status !== 206) {
      const code = await s3ErrorCode(response);
      // An object's first answer always tells its size, and it is read only within that: an object
      // too short for a range (416) is another one, as is one that is no longer a part's version (412).
      if (status === 416 || (status === 412 && bounds?.version !== undefined)) throw changedWhileRead(where);
      // A missing object or bucket, or no right to read it, stays so: no retry would read it.
      if (status === 404 || code === 'AccessDenied') throw new PermanentError(`${where}: ${code ?? `HTTP ${status}`}`, { code: code ?? 'NoSuchKey' });
      throw classifyGeneric(new Error(`${where}: ${code ?? 'HTTP'} ${status}`), status, headerOf(response, 'retry-after'));
    }
    return openedBody(response, where, nameOfObjectSource(key, extension), headerOf(response, 'etag'), true);
  }
}

/** A response header's first value. */
function headerOf(response: SourceAnswer, name: string): string | undefined {
  return [response.headers[name]].flat()[0];
}

/** A strong ETag: a weak one (`W/"…"`) promises an equivalent file, not the same bytes (RFC 9110 §8.8.1). */
function strongETag(response: SourceAnswer): string | undefined {
  const etag = headerOf(response, 'etag');
  return etag?.startsWith('W/') ? undefined : etag;
}

/**
 * The version of a URL's file that a read may be continued in: its strong ETag, else its
 * Last-Modified. A file with a weak ETag is one without an ETag: two answers under the same weak
 * ETag may hold different bytes, and a read continued across them would join two files.
 */
function versionOf(response: SourceAnswer): string | undefined {
  return strongETag(response) ?? headerOf(response, 'last-modified');
}

/** What a 200 or 206 answer opens: its body, where that starts in the file, and the file's size. */
function openedBody(response: SourceAnswer, where: string, name: string, version: string | undefined, ranges: boolean): OpenedBody {
  const range = response.statusCode === 206 ? contentRange(headerOf(response, 'content-range')) : undefined;
  if (response.statusCode === 206 && range === undefined) {
    response.destroy();
    throw rangeNotAnswered(where, 'its partial content with a Content-Range that says where it starts');
  }
  return {
    stream: response,
    startsAt: range?.start ?? 0,
    size: range ? range.size : contentLength(headerOf(response, 'content-length')),
    contentType: headerOf(response, 'content-type'),
    name,
    version,
    ranges,
  };
}
