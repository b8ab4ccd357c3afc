import { httpDestinations } from './arming.ts';
import { deliveriesFor, KiB, MiB, type Scenario } from './scenario.ts';

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
    // one lost again (as many as leave a delivery attempts, should they all hit the same one).
    for (const { destination, faults } of httpDestinations(context)) {
      faults.proxy.arm({ label: `${destination.type}: answer lost`, match: faults.isCommit, fault: { kind: 'lose-answer' } });
      faults.proxy.arm({ label: `${destination.type}: answer never sent`, match: faults.isCommit, fault: { kind: 'stall', direction: 'response', afterBytes: 0 } });
      faults.proxy.arm({ label: `${destination.type}: answer lost`, match: faults.isCommit, fault: { kind: 'lose-answer' } });
    }
  },
};
