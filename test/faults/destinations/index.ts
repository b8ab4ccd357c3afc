import { startAzureBlobDestination } from './azureblob.ts';
import { startDropboxDestination } from './dropbox.ts';
import { startFacebookDestination } from './facebook.ts';
import type { FaultDestination } from './fault-destination.ts';
import { startFtpDestination } from './ftp.ts';
import { startHttpDestination } from './http.ts';
import { startS3Destination } from './s3.ts';
import { startSftpDestination } from './sftp.ts';
import { startYouTubeDestination } from './youtube.ts';

/**
 * How the fault run starts each destination's server behind its proxy, by type. A destination in
 * the registry without an entry here is left out of the run, and the run says so.
 */
export const faultDestinations: Readonly<Record<string, () => Promise<FaultDestination>>> = {
  s3: startS3Destination,
  azureblob: startAzureBlobDestination,
  youtube: startYouTubeDestination,
  dropbox: startDropboxDestination,
  http: startHttpDestination,
  sftp: startSftpDestination,
  facebook: startFacebookDestination,
  ftp: startFtpDestination,
};
