import { httpDestinations } from './arming.ts';
import type { HttpFault } from '../../support/fault-proxy/http-fault-proxy.ts';
import { deliveriesFor, faultBudget, KiB, MiB, type Scenario } from './scenario.ts';

/**
 * A destination that does the work and answers success, but the answer never arrives: lost to a
 * reset, or held until the client gives up. The delivery cannot tell whether the file landed and
 * must look before sending it again. (SSH's encrypted stream cannot be cut right after one given
 * answer; the SFTP destination's check is tested against sshd in its integration tests.)
 */
export const lostAnswerScenario: Scenario = {
  name: 'lost-answer',
  description: 'a destination that answers success, but the answer is lost or never arrives',
  plan: (types, scale) => deliveriesFor('lost-answer', types.filter((type) => type !== 'sftp'), scale === 'full' ? [KiB, 1 * MiB + 7, 9 * MiB + 17, 33 * MiB + 5] : [KiB, 9 * MiB + 17]),
  arm: (context) => {
    // The first requests that make a file, at each destination: an answer lost, one never sent, and
    // one lost again (no more than leave a delivery attempts, should they all hit the same one).
    const sequence: { label: string; fault: HttpFault }[] = [
      { label: 'answer lost', fault: { kind: 'lose-answer' } },
      { label: 'answer never sent', fault: { kind: 'stall', direction: 'response', afterBytes: 0 } },
      { label: 'answer lost', fault: { kind: 'lose-answer' } },
    ];
    for (const { destination, faults } of httpDestinations(context)) {
      for (const { label, fault } of sequence.slice(0, faultBudget(context.settings.maxAttempts))) {
        faults.proxy.arm({ label: `${destination.type}: ${label}`, match: faults.isCommit, fault });
      }
    }
  },
};
