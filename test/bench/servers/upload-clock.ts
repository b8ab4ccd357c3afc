import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * When each object's upload happened, seen from the server: from the first write request for its
 * path (PUT or POST) to the response to the last one. Timing at the server makes every client
 * comparable (a Python CLI's start-up is not part of its transfer rate) and works for any server
 * the clock wraps, s3rver included.
 */
export interface UploadWindow {
  readonly path: string;
  startedAt: number;
  endedAt: number;
  requests: number;
  /** Most write requests for this path in flight at once: the client's effective concurrency. */
  maxInFlight: number;
  inFlight: number;
  readonly sockets: Set<Socket>;
}

export class UploadClock {
  private readonly windows = new Map<string, UploadWindow>();

  /** Wraps a request listener so that every write request is timed. */
  wrap(listener: RequestListener): RequestListener {
    return (request: IncomingMessage, response: ServerResponse) => {
      if (request.method === 'PUT' || request.method === 'POST') this.track(request, response);
      listener(request, response);
    };
  }

  /** The window of an object path (`/bucket/key`), once its requests have finished. */
  window(path: string): UploadWindow | undefined {
    return this.windows.get(path);
  }

  forget(path: string): void {
    this.windows.delete(path);
  }

  private track(request: IncomingMessage, response: ServerResponse): void {
    const now = performance.now();
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://sink').pathname);
    let window = this.windows.get(path);
    if (!window) {
      window = { path, startedAt: now, endedAt: now, requests: 0, maxInFlight: 0, inFlight: 0, sockets: new Set() };
      this.windows.set(path, window);
    }
    const current = window;
    current.requests += 1;
    current.inFlight += 1;
    current.maxInFlight = Math.max(current.maxInFlight, current.inFlight);
    current.sockets.add(request.socket);
    response.once('close', () => {
      current.inFlight -= 1;
      current.endedAt = Math.max(current.endedAt, performance.now());
    });
  }
}
