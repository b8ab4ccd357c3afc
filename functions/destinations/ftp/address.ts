import { isIP } from 'node:net';
import { temporaryNameFor } from '../../../shared/destination/index.ts';

/** `false`: plain FTP; `'explicit'`: AUTH TLS on the plain port; `'implicit'`: TLS from the first byte. */
export type FtpSecurity = false | 'explicit' | 'implicit';

/** A `host` field as given: the name or address, and the port when it carries one. */
export interface FtpHost {
  readonly hostname: string;
  readonly port: number | undefined;
}

const label = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const hostWithPort = new RegExp(`^(?:\\[([0-9A-Fa-f:.]+)\\]|(${label}(?:\\.${label})*))(?::(\\d{1,5}))?$`);

/**
 * Why `host` is not a host name or address with an optional `:port`, or undefined when it is.
 *
 * @example
 * ```ts
 * ftpHostProblem('ftp.example.com:2121'); // undefined
 * ftpHostProblem('ftp://ftp.example.com'); // 'must be a host name without a scheme, …'
 * ```
 */
export function ftpHostProblem(host: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    return 'must be a host name without a scheme, e.g. ftp.example.com or ftp.example.com:2121 (secure chooses FTPS)';
  }
  if (/[/@?#\s]/.test(host)) return 'must be a host name, optionally with :port (no user name, no path: the path goes in filename)';
  if (isIP(host) === 6) return undefined;
  const match = hostWithPort.exec(host);
  if (!match || host.length > 261) return 'must be a host name or IP address, optionally with :port';
  if (match[1] !== undefined && isIP(match[1]) !== 6) return 'must hold an IPv6 address between the brackets';
  if (match[3] !== undefined && !isPort(Number(match[3]))) return 'has a port outside 1–65535';
  return undefined;
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65_535;
}

/** The parts of a `host` that {@link ftpHostProblem} accepts. */
export function parseFtpHost(host: string): FtpHost {
  if (isIP(host) === 6) return { hostname: host, port: undefined };
  const match = hostWithPort.exec(host);
  return { hostname: match?.[1] ?? match?.[2] ?? host, port: match?.[3] === undefined ? undefined : Number(match[3]) };
}

/** `host` as an address the network checks read (`host[:port]`): a bare IPv6 address in brackets. */
export function hostAsEndpoint(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** The port FTP uses when none is given: 990 for implicit FTPS, 21 otherwise (explicit FTPS included). */
export function defaultFtpPort(secure: FtpSecurity): number {
  return secure === 'implicit' ? 990 : 21;
}

/**
 * The URL of a delivered file, without credentials: `ftps://` for either kind of FTPS, the port
 * when it is not the scheme's own (so explicit FTPS on 21 reads `ftps://host:21/…`).
 *
 * @example
 * ```ts
 * ftpFileUrl({ hostname: 'ftp.example.com', port: 21, secure: false }, '/videos/welcome.mp4'); // 'ftp://ftp.example.com/videos/welcome.mp4'
 * ```
 */
export function ftpFileUrl(server: { readonly hostname: string; readonly port: number; readonly secure: FtpSecurity }, path: string): string {
  const scheme = server.secure ? 'ftps' : 'ftp';
  const schemePort = server.secure ? 990 : 21;
  const host = isIP(server.hostname) === 6 ? `[${server.hostname}]` : server.hostname;
  const port = server.port === schemePort ? '' : `:${server.port}`;
  const encoded = path.replace(/^\//, '').split('/').map(encodeURIComponent).join('/');
  return `${scheme}://${host}${port}/${encoded}`;
}

/**
 * The folders above `path`, outermost first, as the server names them (absolute when the path
 * is, else relative to the login folder).
 *
 * @example
 * ```ts
 * foldersAbove('/videos/2025/welcome.mp4'); // ['/videos', '/videos/2025']
 * foldersAbove('welcome.mp4'); // []
 * ```
 */
export function foldersAbove(path: string): string[] {
  const absolute = path.startsWith('/');
  const segments = path.split('/').filter((segment) => segment !== '').slice(0, -1);
  return segments.map((_segment, index) => `${absolute ? '/' : ''}${segments.slice(0, index + 1).join('/')}`);
}

/**
 * A fresh temporary name beside `path`: hidden, ending in `.partial`, unique to this delivery, so
 * that nothing under the final name is ever partial and watchers of `*.mp4` do not see it.
 *
 * @example
 * ```ts
 * temporaryPathBeside('/videos/welcome.mp4'); // '/videos/.welcome.mp4.3f9a1c07d2e4b816.partial'
 * ```
 */
export function temporaryPathBeside(path: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}${temporaryNameFor(path.slice(slash + 1), '.partial')}`;
}
