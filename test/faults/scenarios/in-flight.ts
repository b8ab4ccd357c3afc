import type { FaultDestination } from '../destinations/fault-destination.ts';

/**
 * Whether an upload to `destination` is under way at its server with more than `bytes` of it
 * passed: an upload request still open, or (SSH) a connection still open, past that many bytes.
 */
export function uploadUnderWay(destination: FaultDestination, bytes: number): boolean {
  const { faults } = destination;
  if (faults.kind === 'tcp') return faults.proxy.connections.some((connection) => connection.endedAt === undefined && faults.isUpload(connection) && connection.bytesUp > bytes);
  return faults.proxy.exchanges.some((exchange) => exchange.outcome === 'open' && faults.isUpload(exchange) && exchange.requestBytes > bytes);
}

/**
 * Whether a request or connection to `destination` that a fault stalled is still held at its
 * server: until the server gives it up (its idle timeout), what it was making is still in the
 * making there, not left behind.
 */
export function stallHeld(destination: FaultDestination): boolean {
  const { faults } = destination;
  if (faults.kind === 'tcp') return faults.proxy.connections.some((connection) => connection.endedAt === undefined && connection.stalledAt !== undefined);
  return faults.proxy.exchanges.some((exchange) => exchange.outcome === 'open' && exchange.stalledAt !== undefined);
}
