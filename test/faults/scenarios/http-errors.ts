import { armSpread, httpDestinations, isStagedSourceRead } from './arming.ts';
import { deliveriesFor, faultBudget, KiB, MiB, type Scenario } from './scenario.ts';

/**
 * Servers that answer 500, 503, or 429 with `Retry-After`, each in its own words (S3's XML, Azure's
 * error codes, Google's and Dropbox's JSON), on any request of an upload, and the sources the same.
 */
export const httpErrorsScenario: Scenario = {
  name: 'http-errors',
  description: '500 and 503 answers, 429 with Retry-After, from destinations and sources',
  // SSH has no status codes; FTP has, but its proxy does not read the stream: the SFTP and FTP
  // destinations meet resets and stalls in the other scenarios (FTP's replies: its unit tests).
  plan: (types, scale) =>
    deliveriesFor('http-errors', types.filter((type) => type !== 'sftp' && type !== 'ftp'), scale === 'full' ? [KiB, 256 * KiB, 3 * MiB + 1, 9 * MiB + 17, 33 * MiB + 5] : [256 * KiB, 9 * MiB + 17]),
  arm: (context) => {
    for (const { destination, faults } of httpDestinations(context)) {
      // The three kinds share the attempts one delivery may spend on faults: should they all meet
      // the same delivery, it must still have an attempt left to deliver with.
      const budget = { left: faultBudget(context.settings.maxAttempts) };
      const any = (): boolean => true;
      armSpread(faults, context, { label: `${destination.type}: 500`, times: 1, chance: 0.3, match: any, fault: faults.unavailable(500), budget });
      armSpread(faults, context, { label: `${destination.type}: 503`, times: 1, chance: 0.3, match: any, fault: faults.unavailable(503), budget });
      armSpread(faults, context, { label: `${destination.type}: throttled, Retry-After`, times: 1, chance: 0.3, match: any, fault: faults.throttled(1 + Math.floor(context.random() * 3)), budget });
    }
    context.aws.s3.arm({
      label: 'staging source: 503 SlowDown',
      times: 2,
      match: (head) => isStagedSourceRead(head) && context.random() < 0.3,
      fault: { kind: 'answer', status: 503, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>' },
    });
    context.sources.proxy.arm({ label: 'source URL: 503', times: 1, match: () => context.random() < 0.5, fault: { kind: 'answer', status: 503, body: 'unavailable' } });
    context.sources.proxy.arm({
      label: 'source URL: 429, Retry-After',
      times: 1,
      match: () => context.random() < 0.5,
      fault: { kind: 'answer', status: 429, headers: { 'retry-after': '2' }, body: 'slow down' },
    });
  },
};
