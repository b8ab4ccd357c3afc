import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per function; log level from POWERTOOLS_LOG_LEVEL. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
