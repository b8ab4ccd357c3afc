import { exitCodes, type CliContext } from '../context.ts';
import { UsageError } from '../connection.ts';
import { parseDestinations } from '../destination-argument.ts';

interface TestAnswer {
  readonly ok: boolean;
  readonly type: string;
  readonly method: string;
  readonly checks: readonly { readonly name: string; readonly ok: boolean; readonly detail: string; readonly skipped?: boolean }[];
}

const methods: Readonly<Record<string, string>> = {
  write: 'a small object written under a reserved name and removed',
  identity: "the provider's who-am-I call (nothing written)",
  none: 'not checked',
};

/**
 * `test <destination.json | type:key=value,…>`: checks a destination the way a delivery would
 * (`POST /v1/destinations/test`), one line per check; exit 0 when every check passed.
 */
export async function testDestination(argument: string, context: CliContext): Promise<number> {
  const destinations = await parseDestinations(argument);
  if (destinations.length !== 1) throw new UsageError(`test takes one destination; ${argument} holds ${destinations.length}`);
  const client = await context.client();
  const { body: answer } = await client.request<TestAnswer>('POST', '/v1/destinations/test', { destination: destinations[0] });
  const lines = [
    `${answer.ok ? '✓' : '✗'} ${answer.type} destination ${answer.ok ? 'passed every check' : 'failed'}; permission to write: ${methods[answer.method] ?? answer.method}`,
    ...answer.checks.map((check) => `  ${check.skipped ? '–' : check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}`),
  ];
  context.result(answer, lines.join('\n'));
  return answer.ok ? exitCodes.ok : exitCodes.failed;
}
