import { httpDestinations, streamDestinations } from './arming.ts';
import { deliveriesFor, KiB, MiB, type Scenario } from './scenario.ts';

/**
 * Transient failures that outlast every attempt (each destination unavailable throughout): every
 * delivery must fail with its reason, its message land in the dead-letter queue naming its job,
 * and, once the destinations are back and the queues redriven, be delivered exactly once.
 */
export const deadLetterScenario: Scenario = {
  name: 'dead-letter',
  description: 'destinations unavailable past the last attempt, then the dead-letter queues redriven',
  plan: (types, scale) => deliveriesFor('dead-letter', types, scale === 'full' ? [KiB, 3 * MiB + 1] : [KiB], 'dead-lettered'),
  arm: (context) => {
    for (const { destination, faults } of httpDestinations(context)) {
      faults.proxy.arm({ label: `${destination.type}: unavailable throughout`, times: 1_000_000, fault: faults.unavailable(503) });
    }
    for (const { destination, faults } of streamDestinations(context)) {
      faults.proxy.arm({ label: `${destination.type}: every connection reset`, times: 1_000_000, fault: { kind: 'reset', direction: 'up', afterBytes: 0 } });
      // The connections a warm function keeps (FTP's control connections) go down with the server.
      faults.proxy.resetOpen();
    }
  },
  redrive: true,
};
