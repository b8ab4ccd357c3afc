import { destinationHandler } from '../../../shared/destination/index.ts';
import { s3Destination } from './schema.ts';
import { s3Uploader } from './upload.ts';

export const handler = destinationHandler({ definition: s3Destination, uploader: s3Uploader });
