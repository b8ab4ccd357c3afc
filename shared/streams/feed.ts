import { finished, type Readable, type Writable } from 'node:stream';

/**
 * Pipes `source` into `destination` and ties their lives together, as `pipe` alone does not: a
 * source that fails fails the destination, also one that broke before it was piped (a response
 * whose connection was reset emits no 'error' without a listener); and the source is let go, its
 * connection with it, once the destination closes, ended or destroyed (`pipe` would leave it
 * paused and open).
 */
export function feed<Destination extends Writable>(source: Readable, destination: Destination): Destination {
  finished(source, (error) => {
    if (error) destination.destroy(error);
  });
  destination.once('close', () => source.destroy());
  return source.pipe(destination);
}
