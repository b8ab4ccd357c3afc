import { HeadObjectCommand, NotFound, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { patternBytes } from '../../support/sources.ts';
import { startHttpFaultProxy, type HttpFaultProxy } from '../../support/fault-proxy/http-fault-proxy.ts';

const MiB = 1024 * 1024;

/** One source file of the run: on disk, in the staging bucket, and served by URL. */
export interface SourceFile {
  readonly size: number;
  /** Its key in the staging bucket. */
  readonly key: string;
  readonly path: string;
  readonly sha256: string;
}

/**
 * The run's source files, one per size, made on first use from a deterministic pattern (1 MiB at a
 * time, so a 256 MiB file costs no 256 MiB buffer), and served by URL from an HTTP server with
 * ranges and an ETag (so a source can be resumed) behind a fault proxy.
 */
export class SourceCatalog {
  readonly #files = new Map<number, Promise<SourceFile>>();

  private constructor(
    private readonly directory: string,
    private readonly server: Server,
    /** The proxy in front of the source server: source URLs name it. */
    public readonly proxy: HttpFaultProxy,
  ) {}

  public static async start(directory: string): Promise<SourceCatalog> {
    // The server is made before the catalog it serves, which needs the server's proxy.
    const made: { catalog?: SourceCatalog } = {};
    const server = createServer((request, response) => {
      const { catalog } = made;
      const size = Number(/^\/sources\/(\d+)\.bin$/.exec(new URL(request.url ?? '/', 'http://sources').pathname)?.[1] ?? Number.NaN);
      if (!catalog || !Number.isSafeInteger(size)) {
        response.writeHead(404).end();
        return;
      }
      catalog.file(size).then(
        (file) => {
          const etag = `"${file.sha256.slice(0, 32)}"`;
          const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
          const start = range ? Number(range[1]) : 0;
          if (start > file.size) {
            response.writeHead(416, { 'content-range': `bytes */${file.size}` }).end();
            return;
          }
          const headers = { 'content-type': 'application/octet-stream', etag, 'accept-ranges': 'bytes', 'content-length': String(file.size - start) };
          if (range) response.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${file.size - 1}/${file.size}` });
          else response.writeHead(200, headers);
          if (file.size === start) response.end();
          else createReadStream(file.path, { start }).pipe(response);
        },
        () => response.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = await startHttpFaultProxy({ upstreamPort: (server.address() as AddressInfo).port });
    made.catalog = new SourceCatalog(directory, server, proxy);
    return made.catalog;
  }

  /** The source file of `size` bytes, made on first use. */
  public file(size: number): Promise<SourceFile> {
    let file = this.#files.get(size);
    if (!file) {
      file = this.make(size);
      this.#files.set(size, file);
    }
    return file;
  }

  /** The URL a job names to have this source fetched (through the proxy). */
  public url(size: number): string {
    return `${this.proxy.url}/sources/${size}.bin`;
  }

  private async make(size: number): Promise<SourceFile> {
    const path = join(this.directory, `${size}.bin`);
    const hash = createHash('sha256');
    const handle = await open(path, 'w');
    try {
      for (let offset = 0, block = 0; offset < size; offset += MiB, block += 1) {
        const bytes = patternBytes(Math.min(MiB, size - offset), size * 31 + block + 1);
        hash.update(bytes);
        await handle.write(bytes);
      }
    } finally {
      await handle.close();
    }
    return { size, key: `faults/${size}.bin`, path, sha256: hash.digest('hex') };
  }

  /** Puts the source into the staging bucket unless it is there already (the bucket outlives each runtime). */
  public async stage(file: SourceFile, s3: S3Client, bucket: string): Promise<void> {
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: file.key }));
      if (head.ContentLength === file.size) return;
    } catch (error) {
      if (!(error instanceof NotFound) && (error as { name?: string }).name !== 'NotFound') throw error;
    }
    const { size } = await stat(file.path);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: file.key, Body: createReadStream(file.path), ContentLength: size, ContentType: 'application/octet-stream' }));
  }

  public async close(): Promise<void> {
    await this.proxy.close();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
