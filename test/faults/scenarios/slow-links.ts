import { SlowLink } from '../../support/fault-proxy/relay.ts';
import type { PlannedDelivery } from '../harness/jobs.ts';
import type { ScenarioContext } from './scenario.ts';

/**
 * A slow link in front of each destination, shared by its uploads: `bytesPerSecondPerUpload` times
 * the scenario's deliveries to it, on the requests (or, for a TCP destination, the connections)
 * that carry file bytes.
 */
export function armSlowLinks(context: ScenarioContext, deliveries: readonly PlannedDelivery[], bytesPerSecondPerUpload: number): void {
  for (const destination of context.destinations.values()) {
    const uploads = deliveries.filter((delivery) => delivery.type === destination.type).length;
    const link = new SlowLink(bytesPerSecondPerUpload * Math.max(1, uploads));
    const { faults } = destination;
    if (faults.kind === 'tcp') faults.proxy.arm({ label: `${destination.type}: slow link`, times: 100_000, fault: { kind: 'slow', link } });
    else faults.proxy.arm({ label: `${destination.type}: slow link`, times: 100_000, match: faults.isUpload, fault: { kind: 'slow', link } });
  }
}
