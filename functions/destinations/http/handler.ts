import { destinationHandler } from '../../../shared/destination/index.ts';
import { httpDestination } from './schema.ts';
import { httpUploader } from './upload.ts';

export const handler = destinationHandler({ definition: httpDestination, uploader: httpUploader });
