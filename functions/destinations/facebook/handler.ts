import { destinationHandler } from '../../../shared/destination/index.ts';
import { facebookDestination } from './schema.ts';
import { facebookUploader } from './upload.ts';

export const handler = destinationHandler({ definition: facebookDestination, uploader: facebookUploader });
