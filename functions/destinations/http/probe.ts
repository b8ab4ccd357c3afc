import type { ProbeCheck } from '../../../shared/destination/index.ts';
import { firstHeader, type Answer } from './exchange.ts';

/**
 * What an OPTIONS answer tells about a destination without a file being sent: the server is
 * reached; it does not refuse the credentials (401, 403, 407); something is at the url (no 404,
 * 410 or server error) that, when it lists what it allows, allows the upload's method.
 */
export function probeChecks(answer: Answer, method: string, where: string): ProbeCheck[] {
  const { status } = answer;
  const allowed = firstHeader(answer.headers, 'allow')
    ?.split(',')
    .map((name) => name.trim().toUpperCase())
    .filter((name) => name !== '');
  const credentialsRefused = status === 401 || status === 403 || status === 407;
  const missing = status === 404 || status === 410 || status >= 500;
  const methodRefused = allowed !== undefined && allowed.length > 0 && !allowed.includes(method);
  const endpointDetail = (): string => {
    if (missing) return `answered ${status}: check url`;
    if (methodRefused) return `allows ${allowed.join(', ')}, not ${method}`;
    return `takes requests${allowed === undefined ? '' : ` (allows ${allowed.join(', ')})`}`;
  };
  return [
    { name: 'reach', ok: true, detail: `OPTIONS ${where} answered ${status}` },
    {
      name: 'credentials',
      ok: !credentialsRefused,
      detail: credentialsRefused ? `refused with ${status}: check user and password, or the Authorization header` : `not refused (${status})`,
    },
    { name: 'endpoint', ok: !missing && !methodRefused, detail: endpointDetail() },
  ];
}
