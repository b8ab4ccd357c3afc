import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per function; log level from POWERTOOLS_LOG_LEVEL. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/**
 * A logger whose every line carries `correlation_id`: the job's token, from the door that
 * accepted it to the callback. A child per record rather than a key on the shared logger, since
 * the records of one batch are handled at once.
 */
export function withCorrelationId(log: Logger, token: string): Logger {
  return log.createChild({ persistentKeys: { correlation_id: token } });
}
