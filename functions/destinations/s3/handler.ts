import { destinationHandler } from '../../../shared/lambda/destination-handler.ts';
import { s3Destination } from './schema.ts';
import { s3Uploader } from './upload.ts';

export const handler = destinationHandler(s3Destination, s3Uploader);
