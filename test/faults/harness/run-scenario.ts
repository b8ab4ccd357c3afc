import { S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { resourceNames } from '../../../infra/resources.ts';
import type { ConcurrencyPeak, FaultDestination } from '../destinations/fault-destination.ts';
import type { RuleBook } from '../../support/fault-proxy/rules.ts';
import { addFigures, noFigures, type Figures } from '../report/figures.ts';
import { stallHeld } from '../scenarios/in-flight.ts';
import { seededRandom, until, type Scale, type Scenario, type ScenarioContext } from '../scenarios/scenario.ts';
import type { CallbackReceiver } from './callbacks.ts';
import { inBatches, isFinal, jobView, submit, type JobView, type PlannedDelivery, type SubmittedDelivery } from './jobs.ts';
import { RunQueues, type DeadLetterFound } from './queues.ts';
import type { AwsProxies, FaultRuntime, RuntimePool, RuntimeSettings } from './runtime.ts';
import type { SourceCatalog } from './sources.ts';

/** What every scenario of a run shares: the servers, the proxies, the sources, the settings. */
export interface RunContext {
  readonly runtimes: RuntimePool;
  readonly settings: RuntimeSettings;
  readonly destinations: ReadonlyMap<string, FaultDestination>;
  readonly aws: AwsProxies;
  readonly sources: SourceCatalog;
  readonly callbacks: CallbackReceiver;
  readonly scale: Scale;
  readonly seed: number;
  /** How long a scenario's deliveries may take to drain before what is left counts as lost. */
  readonly drainSeconds: number;
  log(line: string): void;
}

/** One scenario's outcome: the figures, per destination too, the faults acted out, and every problem found. */
export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly seconds: number;
  readonly settings: RuntimeSettings;
  readonly figures: Figures;
  readonly byDestination: Readonly<Record<string, Figures>>;
  /** Each fault's label and how many times it was acted out. */
  readonly faults: Readonly<Record<string, number>>;
  /** The most uploads open at once at each destination's server, and which were. */
  readonly peakConcurrentUploads: Readonly<Record<string, ConcurrencyPeak>>;
  /** Each delivery that missed a target, and how. */
  readonly problems: readonly string[];
  /** The scenario's own figures (the load's memory, latencies and concurrency). */
  readonly measured?: Readonly<Record<string, unknown>>;
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** A string's 32-bit hash, to derive a scenario's seed from the run's. */
function hashOf(text: string): number {
  let hash = 2166136261;
  for (const character of text) hash = Math.imul(hash ^ character.charCodeAt(0), 16777619);
  return hash >>> 0;
}

/** Every rule book of the run's proxies, to count and disarm their faults. */
function ruleBooks(run: RunContext): RuleBook<unknown, unknown>[] {
  const books: RuleBook<unknown, unknown>[] = [run.aws.sqs.rules, run.aws.dynamodb.rules, run.aws.s3.rules, run.sources.proxy.rules] as never;
  for (const { faults } of run.destinations.values()) {
    books.push(faults.proxy.rules as never);
    if (faults.kind === 'tcp' && faults.commitAnswers) books.push(faults.commitAnswers as never);
  }
  return books;
}

function firedCounts(run: RunContext): Map<string, number> {
  const counts = new Map<string, number>();
  for (const book of ruleBooks(run)) for (const [label, count] of book.fired) counts.set(label, (counts.get(label) ?? 0) + count);
  return counts;
}

/** The request body of a delivery: its source, its destination, the run's callback. */
function requestFor(run: RunContext, delivery: PlannedDelivery, key: string): Record<string, unknown> {
  const destination = run.destinations.get(delivery.type)!;
  return {
    source: delivery.via === 'url' ? { url: run.sources.url(delivery.size) } : { bucket: resourceNames.stagingBucket, key },
    upload: { destination: destination.destination(delivery.name) },
    callback_url: run.callbacks.url,
  };
}

/** The latest callback of a job says every destination finished (with `state` when given). */
function calledBack(run: RunContext, token: string, state?: string): boolean {
  const last = run.callbacks.received.get(token)?.at(-1);
  if (!last) return false;
  return state === undefined ? last.destinations.every((each) => each === 'succeeded' || each === 'failed') : last.destinations.every((each) => each === state);
}

/**
 * Waits until every delivery is done (its callback came, or its job shows it final) and no
 * destination queue holds a message, waiting, in flight or delayed; false when `seconds` pass first.
 */
async function drain(apiUrl: string, queues: RunQueues, deliveries: readonly SubmittedDelivery[], done: (delivery: SubmittedDelivery, view?: JobView) => boolean, seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  const finishedByView = new Set<string>();
  let lastLook = Date.now();
  let quietSince: number | undefined;
  for (;;) {
    const waiting = deliveries.filter((delivery) => !finishedByView.has(delivery.token) && !done(delivery));
    // A callback can fail for good; the job itself is asked now and then.
    if (waiting.length > 0 && Date.now() - lastLook > 10_000) {
      lastLook = Date.now();
      await inBatches(waiting, 8, async (delivery) => {
        const view = await jobView(apiUrl, delivery.token).catch(() => undefined);
        if (view && done(delivery, view)) finishedByView.add(delivery.token);
      });
    }
    if (waiting.length === 0 && (await queues.pending()) === 0) {
      quietSince ??= Date.now();
      // The queues stay empty a moment: a message being deferred or returned is not missed.
      if (Date.now() - quietSince > 2000) return true;
    } else quietSince = undefined;
    if (Date.now() > deadline) return false;
    await sleep(500);
  }
}

/** Runs one scenario on drained queues and counts its figures from the servers' side. */
export async function runScenario(scenario: Scenario, run: RunContext): Promise<ScenarioResult> {
  const started = Date.now();
  const settings: RuntimeSettings = { ...run.settings, ...scenario.settings };
  const random = seededRandom(run.seed ^ hashOf(scenario.name));
  let context: ScenarioContext | undefined;
  const runtime: FaultRuntime = await run.runtimes.acquire(settings, (body) => {
    if (context && scenario.onMessage) scenario.onMessage(body, context);
  });
  const queues = new RunQueues(runtime.pipeline);
  const apiUrl = runtime.pipeline.apiUrl;
  try {
    const secrets = JSON.parse(await readFile(runtime.pipeline.secretsFile, 'utf8')) as Record<string, { key?: string }>;
    run.callbacks.useSigningKey(secrets['callback-signing-key']?.key ?? '');
    const planned = scenario.plan([...run.destinations.keys()], run.scale);
    const staging = new S3Client({
      region: 'us-east-1',
      endpoint: runtime.pipeline.s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: runtime.pipeline.s3.accessKeyId, secretAccessKey: runtime.pipeline.s3.secretAccessKey },
      // s3rver stores an aws-chunked body as it comes, framing and all: send plain bodies.
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const keys = new Map<number, string>();
    for (const size of new Set(planned.map((delivery) => delivery.size))) {
      const file = await run.sources.file(size);
      await run.sources.stage(file, staging, resourceNames.stagingBucket);
      keys.set(size, file.key);
    }
    staging.destroy();

    const marks = new Map([...run.destinations].map(([type, destination]) => [type, destination.mark()]));
    // What earlier scenarios left is theirs: only what this one leaves counts here.
    const leftoversBefore = new Map(await Promise.all([...run.destinations].map(async ([type, destination]) => [type, new Set(await destination.leftovers())] as const)));
    const firedBefore = firedCounts(run);
    const acted = new Map<string, number>();
    const submitted: SubmittedDelivery[] = [];
    let finished = false;
    context = {
      runtime,
      destinations: run.destinations,
      aws: run.aws,
      sources: run.sources,
      callbacks: run.callbacks,
      settings,
      scale: run.scale,
      random,
      submitted: () => submitted,
      finished: () => finished,
      count: (label) => acted.set(label, (acted.get(label) ?? 0) + 1),
      log: (line) => run.log(`  ${scenario.name}: ${line}`),
    };
    scenario.arm?.(context, planned);
    run.log(`${scenario.name}: ${planned.length} deliveries`);
    const acting = scenario.during?.(context);
    submitted.push(...(await inBatches(planned, scenario.submitConcurrency ?? 8, (delivery) => submit(apiUrl, delivery, requestFor(run, delivery, keys.get(delivery.size)!)))));
    const drainSeconds = scenario.drainSeconds ?? run.drainSeconds;
    const done = (delivery: SubmittedDelivery, view?: JobView): boolean => calledBack(run, delivery.token) || isFinal(view);
    let drained = await drain(apiUrl, queues, submitted, done, drainSeconds);
    finished = true;
    await acting;
    // What the scenario did last (a message sent again) is drained too.
    if (drained) drained = await drain(apiUrl, queues, submitted, done, drainSeconds);
    if (!drained) run.log(`${scenario.name}: not drained within ${drainSeconds} s`);
    const measured = await scenario.measure?.(context, submitted);

    let deadLettered: DeadLetterFound[] = [];
    let failedBeforeRedrive: readonly { delivery: SubmittedDelivery; view: JobView }[] = [];
    if (scenario.redrive) {
      // The faults end (the cause is fixed), and the dead-letter queues are redriven.
      for (const book of ruleBooks(run)) book.clear();
      deadLettered = await queues.deadLetters();
      failedBeforeRedrive = (await inBatches(submitted, 8, async (delivery) => ({ delivery, view: await jobView(apiUrl, delivery.token) }))).filter(
        ({ view }) => view.destinations[0]?.state === 'failed',
      );
      const moved = await queues.redriveAll();
      run.log(`${scenario.name}: redrove ${moved} dead-lettered deliveries`);
      await drain(apiUrl, queues, submitted, (delivery, view) => calledBack(run, delivery.token, 'succeeded') || view?.destinations[0]?.state === 'succeeded', drainSeconds);
    }
    for (const book of ruleBooks(run)) book.clear();
    // A stalled upload's server is still receiving it until its idle timeout gives it up (the
    // proxy's 30 s): what it holds for it then is not yet left behind.
    await until(() => ![...run.destinations.values()].some(stallHeld), 45_000);

    const tally = await tallyScenario(run, scenario, submitted, { apiUrl, queues, marks, leftoversBefore, deadLettered, failedBeforeRedrive });
    const fired = firedCounts(run);
    const faults = Object.fromEntries([
      ...[...fired].flatMap(([label, count]) => (count - (firedBefore.get(label) ?? 0) > 0 ? [[label, count - (firedBefore.get(label) ?? 0)] as const] : [])),
      ...acted,
    ]);
    return {
      name: scenario.name,
      description: scenario.description,
      seconds: Math.round((Date.now() - started) / 1000),
      settings,
      ...tally,
      faults,
      peakConcurrentUploads: Object.fromEntries([...run.destinations].map(([type, destination]) => [type, destination.peakConcurrentUploadsSince(marks.get(type)!)])),
      problems: [...tally.problems, ...(drained ? [] : [`not drained within ${drainSeconds} s`])],
      ...(measured ? { measured } : {}),
    };
  } finally {
    queues.close();
  }
}

interface TallyInputs {
  readonly apiUrl: string;
  readonly queues: RunQueues;
  readonly marks: ReadonlyMap<string, number>;
  readonly leftoversBefore: ReadonlyMap<string, ReadonlySet<string>>;
  /** Dead letters found before the redrive (a redrive scenario). */
  readonly deadLettered: readonly DeadLetterFound[];
  readonly failedBeforeRedrive: readonly { delivery: SubmittedDelivery; view: JobView }[];
}

/**
 * Counts the figures for a scenario's deliveries: what landed (from each destination's
 * server), what is left partial there, what the jobs, the dead-letter queues and the callbacks say,
 * and whether they agree.
 */
async function tallyScenario(
  run: RunContext,
  scenario: Scenario,
  deliveries: readonly SubmittedDelivery[],
  inputs: TallyInputs,
): Promise<{ figures: Figures; byDestination: Record<string, Figures>; problems: string[] }> {
  const problems: string[] = [];
  const views = new Map((await inBatches(deliveries, 8, async (delivery) => [delivery.token, await jobView(inputs.apiUrl, delivery.token)] as const)).map((entry) => entry));
  const deadLetters = await inputs.queues.deadLetters();
  const tokens = new Set(deliveries.map((delivery) => delivery.token));
  const byDestination: Record<string, Figures> = {};
  const add = (type: string, figures: Partial<Figures>): void => {
    byDestination[type] = addFigures(byDestination[type] ?? noFigures, { ...noFigures, ...figures });
  };

  for (const delivery of deliveries) {
    const destination = run.destinations.get(delivery.type)!;
    const view = views.get(delivery.token)!;
    const state = view.destinations[0];
    const landed = await destination.landed(delivery.name);
    const expected = (await run.sources.file(delivery.size)).sha256;
    const delivered = landed.sha256 === expected;
    const failed = state?.state === 'failed';
    const hasReason = Boolean(state?.error?.code && state.error.message);
    const problem = (text: string): void => {
      problems.push(`${delivery.name} (${delivery.token}): ${text}`);
    };
    const figures: Partial<{ -readonly [K in keyof Figures]: number }> = { deliveries: 1, fileBytes: delivered ? delivery.size : 0 };

    if (!delivered && !(failed && hasReason)) {
      figures.lost = 1;
      problem(`lost: the job says ${state?.state ?? 'nothing'} and the destination holds ${landed.sha256 === undefined ? 'nothing' : 'other bytes'}`);
    }
    if (landed.writes > 1) {
      figures.deliveredTwice = 1;
      problem(`written ${landed.writes} times at the destination`);
    }
    if (landed.sha256 !== undefined && !delivered) {
      figures.partialLeft = 1;
      problem('other bytes than the source stand under its name');
    }
    if (failed) {
      figures.failures = 1;
      figures.failuresWithReason = hasReason ? 1 : 0;
      figures.wronglyFailed = 1;
      problem(`failed (${state?.error?.code}: ${state?.error?.message}) after ${state?.attempts} attempt(s), though its faults ended and attempts remained`);
      if (!hasReason) problem('failed without a reason');
    }
    // Agreement of the job, the destination, the dead-letter queue and the callback.
    const disagreements: string[] = [];
    if (delivered && state?.state !== 'succeeded') disagreements.push(`the file landed but the job says ${state?.state}`);
    if (state?.state === 'succeeded' && !delivered) disagreements.push('the job says succeeded but the file is not there');
    const letters = deadLetters.filter((letter) => letter.token === delivery.token);
    if (letters.length > 0 && !failed) disagreements.push(`${letters.length} dead-letter message(s) for a job that says ${state?.state}`);
    const callbacks = run.callbacks.received.get(delivery.token) ?? [];
    const last = callbacks.at(-1);
    if (isFinal(view) && (!last || last.destinations[0] !== state?.state)) disagreements.push(`the last callback says ${last?.destinations[0] ?? 'nothing'}, the job ${state?.state}`);
    if (callbacks.some((callback) => !callback.signed)) disagreements.push('a callback without a valid signature');
    const outcomes = callbacks.map((callback) => callback.destinations.join(','));
    // At least once: the same outcome may come again (the function ended between calling back and recording it).
    if (outcomes.some((outcome, index) => index > 0 && outcome === outcomes[index - 1])) figures.callbacksRepeated = 1;
    if (disagreements.length > 0) {
      figures.disagreements = 1;
      problem(disagreements.join('; '));
    }

    if (delivery.expect === 'dead-lettered') {
      const before = inputs.failedBeforeRedrive.find((entry) => entry.delivery.token === delivery.token);
      const letter = inputs.deadLettered.find((found) => found.token === delivery.token);
      figures.failures = (figures.failures ?? 0) + (before ? 1 : 0);
      figures.failuresWithReason = (figures.failuresWithReason ?? 0) + (before?.view.destinations[0]?.error?.code && before.view.destinations[0].error.message ? 1 : 0);
      if (!before) problem('was to fail into the dead-letter queue while its destination was down, and did not');
      if (!letter) problem('no dead-letter message named it before the redrive');
    }
    add(delivery.type, figures);
  }

  // Dead letters: those seen before a redrive, and those still there now.
  for (const letter of [...inputs.deadLettered, ...deadLetters]) {
    const names = letter.token !== undefined && tokens.has(letter.token) && letter.index === 0;
    add(letter.type, { deadLetters: 1, deadLettersNamingJob: names ? 1 : 0 });
    if (!names) problems.push(`a dead-letter message of ${letter.type} (${letter.messageId}) names no job of the run`);
  }
  for (const [type, destination] of run.destinations) {
    const leftovers = (await destination.leftovers()).filter((leftover) => !inputs.leftoversBefore.get(type)?.has(leftover));
    if (leftovers.length > 0) problems.push(...leftovers.map((leftover) => `${type}: left behind: ${leftover}`));
    const sent = destination.uploadBytesSince(inputs.marks.get(type)!);
    const figures = byDestination[type] ?? noFigures;
    add(type, { partialLeft: leftovers.length, resentBytes: Math.max(0, sent - figures.fileBytes) });
  }
  const figures = Object.values(byDestination).reduce(addFigures, noFigures);
  if (scenario.redrive && inputs.deadLettered.length === 0) problems.push('nothing was dead-lettered');
  return { figures, byDestination, problems };
}
