import { httpDestinations, streamDestinations } from './arming.ts';
import type { HttpFault } from '../../support/fault-proxy/http-fault-proxy.ts';
import { deliveriesFor, faultBudget, KiB, MiB, type Scenario } from './scenario.ts';

/** One lost answer, as an HTTP proxy acts it out and as a stream server's hook does. */
interface LostAnswer {
  readonly label: string;
  readonly http: HttpFault;
  readonly stream: 'lost' | 'withheld';
}

/**
 * A destination that does the work and answers success, but the answer never arrives: lost to a
 * reset, or held until the client gives up. The delivery cannot tell whether the file landed and
 * must look before sending it again. FTP's server loses its rename's answer itself (a hook: the
 * proxy does not read the stream). SSH's encrypted stream cannot be cut right after one given
 * answer; the SFTP destination's check is tested against sshd in its integration tests.
 */
export const lostAnswerScenario: Scenario = {
  name: 'lost-answer',
  description: 'a destination that answers success, but the answer is lost or never arrives',
  plan: (types, scale) => deliveriesFor('lost-answer', types.filter((type) => type !== 'sftp'), scale === 'full' ? [KiB, 1 * MiB + 7, 9 * MiB + 17, 33 * MiB + 5] : [KiB, 9 * MiB + 17]),
  arm: (context) => {
    // The first requests that make a file, at each destination: an answer lost, one never sent, and
    // one lost again (no more than leave a delivery attempts, should they all hit the same one).
    const lost: LostAnswer = { label: 'answer lost', http: { kind: 'lose-answer' }, stream: 'lost' };
    const neverSent: LostAnswer = { label: 'answer never sent', http: { kind: 'stall', direction: 'response', afterBytes: 0 }, stream: 'withheld' };
    const sequence = [lost, neverSent, lost].slice(0, faultBudget(context.settings.maxAttempts));
    for (const { destination, faults } of httpDestinations(context)) {
      for (const { label, http } of sequence) faults.proxy.arm({ label: `${destination.type}: ${label}`, match: faults.isCommit, fault: http });
    }
    for (const { destination, faults } of streamDestinations(context)) {
      for (const { label, stream } of sequence) faults.commitAnswers?.arm({ label: `${destination.type}: ${label}`, fault: stream });
    }
  },
};
