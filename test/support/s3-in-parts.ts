import { defaultMultipartSettings } from '../../functions/destinations/s3/multipart.ts';
import { createS3Uploader } from '../../functions/destinations/s3/upload.ts';

/** Where the S3 uploader below switches from one streamed PutObject to parts. */
export const partsFromBytes = 16 * 1024 * 1024;

/**
 * The S3 uploader with its streamed-PutObject switch at 16 MiB, for tests of what multipart
 * uploads do (resume from stored parts, a completion sent once) with files of tens of MiB; the
 * default switch sends files up to 256 MiB as one streamed PutObject.
 */
export const s3UploaderInParts = createS3Uploader({ ...defaultMultipartSettings, streamedPutMaxBytes: partsFromBytes });
