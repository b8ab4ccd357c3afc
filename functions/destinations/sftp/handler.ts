import { destinationHandler } from '../../../shared/destination/index.ts';
import { sftpDestination } from './schema.ts';
import { sftpUploader } from './upload.ts';

export const handler = destinationHandler({ definition: sftpDestination, uploader: sftpUploader });
