import { posix } from 'node:path';
import { temporaryNameFor } from '../../../shared/destination/index.ts';
import { authorityOf, type SftpDestinationFields } from './schema.ts';

/** Temporary files end so; they start with a dot, hidden beside the file they become. */
export const temporarySuffix = '.upload-part';

/**
 * Where a delivery to `filename` writes before its file is complete: a hidden file in the same
 * folder (so the final rename never crosses file systems), named after the file and a random id
 * (so deliveries to the same name never share one).
 *
 * @example
 * temporaryPathFor('/videos/welcome.mp4'); // '/videos/.welcome.mp4.3f9c0a1b2c3d4e5f.upload-part'
 */
export function temporaryPathFor(filename: string): string {
  return posix.join(posix.dirname(filename), temporaryNameFor(posix.basename(filename), temporarySuffix));
}

/** Whether a file name is one {@link temporaryPathFor} makes. */
export function isTemporaryName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(temporarySuffix);
}

/**
 * The delivered file as an `sftp://host:port/path` URL (no credentials), for an absolute `path`.
 *
 * @example
 * fileUrl({ host: 'files.example.com', port: 22 }, '/videos/a b.mp4'); // 'sftp://files.example.com:22/videos/a%20b.mp4'
 */
export function fileUrl(destination: Pick<SftpDestinationFields, 'host' | 'port'>, path: string): string {
  return `sftp://${authorityOf(destination)}${path.split('/').map(encodeURIComponent).join('/')}`;
}
