import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per function; log level from POWERTOOLS_LOG_LEVEL. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** The methods that write a line. */
const writers = new Set<PropertyKey>(['trace', 'debug', 'info', 'warn', 'error', 'critical']);

/**
 * A logger whose every line carries `correlation_id`: the job's token, from the door that
 * accepted it to the callback. Each line gets the key as it is written, rather than from a key on
 * the shared logger, since the records of one batch are handled at once; and rather than from a
 * child logger, which costs a whole logger's construction per record.
 */
export function withCorrelationId(log: Logger, token: string): Logger {
  const correlation = { correlation_id: token };
  return new Proxy(log, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      // The logger keeps its state in private fields: its methods run on it, never on the proxy.
      if (!writers.has(property)) return value.bind(target);
      return (input: unknown, ...extra: unknown[]) => (value as (...args: unknown[]) => void).call(target, input, ...extra, correlation);
    },
  });
}
