import type { FaultDestination } from '../destinations/fault-destination.ts';

/**
 * How many uploads to `destination` are under way at its server with more than `bytes` of them
 * passed: upload requests still open, or (SSH, FTP) connections still open, past that many bytes.
 */
export function uploadsUnderWay(destination: FaultDestination, bytes: number): number {
  const { faults } = destination;
  if (faults.kind === 'tcp') return faults.proxy.connections.filter((connection) => connection.endedAt === undefined && faults.isUpload(connection) && connection.bytesUp > bytes).length;
  return faults.proxy.exchanges.filter((exchange) => exchange.outcome === 'open' && faults.isUpload(exchange) && exchange.requestBytes > bytes).length;
}

/** Whether at least one upload to `destination` is under way past `bytes` ({@link uploadsUnderWay}). */
export function uploadUnderWay(destination: FaultDestination, bytes: number): boolean {
  return uploadsUnderWay(destination, bytes) > 0;
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
