import { destinationHandler } from '../../../shared/destination/index.ts';
import { ftpDestination } from './schema.ts';
import { ftpUploader } from './upload.ts';

export const handler = destinationHandler({ definition: ftpDestination, uploader: ftpUploader });
