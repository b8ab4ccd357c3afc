import { awsServices, type AwsService } from '../../support/aws-requests.ts';
import type { PipelineResult } from '../sections/pipeline.ts';
import type { RequestsResult } from '../sections/requests.ts';
import type { GoalCheck } from './goals.ts';
import { markdownTable } from './table.ts';

/** Issue 13's targets for the local pipeline and the requests one delivery makes. */
export const pipelineTargets = { deliveriesPerSecondAt64: 150, p50AddedMsAt1: 15, requestsPerDelivery: 8 } as const;

/**
 * Deliveries/s at 64 clients and p50 added latency at one client, once the runtime has warmed up
 * (see the pipeline section's `warmUp`). The latency is judged with one client: with 64
 * closed-loop clients the queueing they cause themselves dominates (Little's law: 64 clients at
 * 150/s wait 430 ms), and the table shows it at every level.
 */
export function pipelineGoals(result: PipelineResult | undefined): GoalCheck[] {
  const busiest = result?.levels.find((candidate) => candidate.clients === 64);
  const single = result?.levels.find((candidate) => candidate.clients === 1);
  const { deliveriesPerSecondAt64, p50AddedMsAt1 } = pipelineTargets;
  const throughputGoal = `local pipeline: ≥ ${deliveriesPerSecondAt64} deliveries/s at 64 clients`;
  const latencyGoal = `local pipeline: p50 added latency ≤ ${p50AddedMsAt1} ms (1 client)`;
  const p50 = single?.addedLatencyMs.p50;
  // The levels run warm; a fresh runtime's first window says what the warm-up was worth.
  const warmUp = result?.warmUp ?? [];
  const warmed = warmUp.reduce((sum, window) => sum + window.deliveries, 0);
  const fresh = warmUp[0] ? ` after ${warmed} warm-up deliveries (a fresh runtime's first ${warmUp[0].deliveries}: ${warmUp[0].deliveriesPerSecond.toFixed(0)}/s)` : ' without a warm-up';
  return [
    busiest
      ? { goal: throughputGoal, measured: `${busiest.deliveriesPerSecond.toFixed(0)} deliveries/s${fresh}`, met: busiest.deliveriesPerSecond >= deliveriesPerSecondAt64 }
      : { goal: throughputGoal, measured: 'section not run', met: undefined },
    p50 !== undefined
      ? { goal: latencyGoal, measured: `p50 ${p50.toFixed(0)} ms, p99 ${single?.addedLatencyMs.p99?.toFixed(0)} ms`, met: p50 <= p50AddedMsAt1 }
      : { goal: latencyGoal, measured: 'section not run', met: undefined },
  ];
}

const serviceLabels: Readonly<Record<AwsService, string>> = { dynamodb: 'DynamoDB', sqs: 'SQS', s3: 'S3', kms: 'KMS', secretsmanager: 'Secrets Manager' };

/** The baseline scenario's requests per delivery, all services together, against the target. */
export function requestGoals(result: RequestsResult | undefined): GoalCheck[] {
  const goal = `AWS requests per delivery (S3 destination, staging source, stored credentials, no callback) ≤ ${pipelineTargets.requestsPerDelivery}`;
  const baseline = result?.scenarios.find((scenario) => scenario.baseline);
  if (!baseline) return [{ goal, measured: 'section not run', met: undefined }];
  const byService = awsServices.map((service) => `${serviceLabels[service]} ${Object.values(baseline.perDelivery[service]).reduce((a, b) => a + b, 0)}`);
  return [{ goal, measured: `${baseline.total} (${byService.join(', ')})`, met: baseline.total <= pipelineTargets.requestsPerDelivery }];
}

/** One row per scenario: requests per delivery by service, each service's actions spelled out. */
export function renderRequests(result: RequestsResult): string {
  const figure = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(2));
  const rows = result.scenarios.map((scenario) => [
    scenario.name,
    ...awsServices.map((service) => {
      const actions = Object.entries(scenario.perDelivery[service]);
      if (actions.length === 0) return '0';
      return `${figure(actions.reduce((sum, [, count]) => sum + count, 0))}: ${actions.map(([action, count]) => `${action} ${figure(count)}`).join(', ')}`;
    }),
    figure(scenario.total),
  ]);
  return [
    `## requests: AWS requests per ${result.fileBytes}-byte delivery, counted at the local servers (${result.scenarios[0]?.deliveries ?? 0} deliveries each, after warm-ups)`,
    markdownTable(['scenario', ...awsServices.map((service) => serviceLabels[service]), 'total'], rows),
  ].join('\n');
}
