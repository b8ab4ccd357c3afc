import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { describeMachine } from '../support/machine.ts';
import { rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildWorkers, workerNames } from './clients/build.ts';
import { clientLabels, writeToolConfigs, type ClientName, type ClientPrograms } from './clients/commands.ts';
import { ensureDebianTool, type ToolStatus } from './clients/install.ts';
import { python } from './measure/child.ts';
import { GiB, MiB } from './measure/stats.ts';
import { readOptions } from './options.ts';
import { coldStartGoals, s3rverGoals } from './report/goals.ts';
import { destinationRows, renderDestinationSummary, renderLambdaModel } from './report/destinations.ts';
import { assumedNetworkMibPerSecond } from './sections/lambda-memory.ts';
import { destinations } from '../../functions/destinations/registry.ts';
import { s3TargetGoals } from './report/s3-targets.ts';
import { definitions, type BenchResults } from './report/results.ts';
import { renderReport } from './report/table.ts';
import { measureAzureBlob, renderAzureBlobBench } from './sections/azureblob.ts';
import { measureColdStart } from './sections/cold-start.ts';
import { measureHttpUploads, renderHttpUploads } from './sections/http.ts';
import { measureDropbox, renderDropbox } from './sections/dropbox.ts';
import { defaultChunkBytes } from '../../functions/destinations/dropbox/upload.ts';
import { measureFtp, renderFtp } from './sections/ftp.ts';
import { measureMemory } from './sections/memory.ts';
import { pipelineGoals, renderRequests, requestGoals } from './report/pipeline-goals.ts';
import { measurePipeline } from './sections/pipeline.ts';
import { measureRequests } from './sections/requests.ts';
import { measureSftp, renderSftpTable } from './sections/sftp.ts';
import { benchBucket, s3rverTarget, sinkTarget } from './sections/targets.ts';
import { measureThroughput, type ThroughputContext, type UploadTarget } from './sections/throughput.ts';
import { measureTuning, quickTuningVariants, switchVariants, tuningVariants } from './sections/tuning.ts';
import { measureLambdaMemory } from './sections/lambda-memory.ts';
import { measureYouTube } from './sections/youtube.ts';
import { measureFacebook, renderFacebookTable } from './sections/facebook.ts';
import { startDiscardServer } from './servers/discard.ts';
import { startPatternServer } from './servers/pattern-server.ts';
import { startS3Sink } from './servers/s3-sink.ts';
import { startS3rver } from './servers/s3rver.ts';
import { selfSignedCertificate, type SelfSignedCertificate } from './servers/tls.ts';
import { benchCredentials } from './clients/commands.ts';

/**
 * `npm run bench`: the project's S3 upload beside the tools users would pick instead, on this
 * machine, in this run. Writes every figure to bench-results/latest.json and prints the tables.
 */

const started = Date.now();
/** Each destination's Lambda memory as its definition sets it. */
const lambdaMemoryOf = (type: string): number | undefined => destinations.find((definition) => definition.type === type)?.lambda.memoryMb;
const log = (line: string): void => {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
};

const options = readOptions(process.argv.slice(2));
const root = resolve(import.meta.dirname, '../..');
const scratch = await mkdtemp(join(tmpdir(), 'ud-bench-'));
// CLI inputs go to tmpfs when there is one: reading them costs page-cache copies, not disk waits.
const inputDirectory = await mkdtemp('/dev/shm/ud-bench-').catch(() => scratch);
// Inside the repository, so the naive cold-start builds resolve packages from node_modules.
const buildDirectory = join(root, 'bench-results', '.build');
const cleanUp = (): void => {
  for (const directory of new Set([scratch, inputDirectory, buildDirectory])) rmSync(directory, { recursive: true, force: true });
};
process.once('SIGINT', () => {
  cleanUp();
  process.exit(130);
});


const results: BenchResults = {
  generatedAt: new Date().toISOString(),
  durationSeconds: 0,
  machine: await describeMachine(),
  options: { ...options, sections: [...options.sections] },
  tools: {},
  loadAverageAtEnd: [],
  skipped: [],
  goals: [],
  definitions,
};

async function save(): Promise<void> {
  results.durationSeconds = Math.round((Date.now() - started) / 1000);
  results.loadAverageAtEnd = loadavg();
  results.destinations = destinationRows(results);
  results.goals = [
    ...s3TargetGoals(results),
    ...s3rverGoals(results.s3rver),
    ...coldStartGoals(results.coldStart),
    ...pipelineGoals(results.pipeline),
    ...requestGoals(results.requests),
  ];
  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, `${JSON.stringify(results, null, 2)}\n`);
}

try {
  await rm(buildDirectory, { recursive: true, force: true });
  await mkdir(buildDirectory, { recursive: true });

  log('checking tools (installing what is missing)');
  const measurer = await ensureDebianTool(python, 'python3-minimal', ['--version']);
  results.tools.python3 = measurer;
  if (!measurer.available) throw new Error(`python3 is needed to measure client CPU and memory (wait4): ${measurer.reason}`);
  const wanted = new Set(options.clients);
  const tools: { aws?: ToolStatus; rclone?: ToolStatus } = {};
  if (wanted.has('aws-cli')) results.tools['aws-cli'] = tools.aws = await ensureDebianTool('/usr/bin/aws', 'awscli');
  if (wanted.has('rclone')) results.tools.rclone = tools.rclone = await ensureDebianTool('/usr/bin/rclone', 'rclone', ['version']);
  if (options.sections.has('https')) results.tools.openssl = await ensureDebianTool('/usr/bin/openssl', 'openssl', ['version']);

  log('bundling the Node clients as a function is bundled');
  const workers = await buildWorkers(join(buildDirectory, 'workers'));
  const programs: ClientPrograms = {
    node: process.execPath,
    workers: Object.fromEntries(workerNames.flatMap((name) => ('file' in workers[name] ? [[name, (workers[name] as { file: string }).file]] : []))),
    ...(tools.aws?.available ? { aws: tools.aws.path } : {}),
    ...(tools.rclone?.available ? { rclone: tools.rclone.path } : {}),
    ...(await writeToolConfigs(scratch)),
  };

  const unavailable = new Map<ClientName, string>();
  const oursBuild = workers.ours;
  if ('error' in oursBuild) {
    unavailable.set('ours', `the project's S3 uploader could not be bundled (is functions/destinations/s3/upload.ts there yet?): ${oursBuild.error}`);
  }
  for (const [client, worker] of [['lib-storage', 'lib-storage'], ['plain-put', 'plain-put'], ['plain-put-4', 'plain-put']] as const) {
    const outcome = workers[worker];
    if ('error' in outcome) unavailable.set(client, `worker did not bundle: ${outcome.error}`);
  }
  if (tools.aws && !tools.aws.available) unavailable.set('aws-cli', tools.aws.reason);
  if (tools.rclone && !tools.rclone.available) unavailable.set('rclone', tools.rclone.reason);
  for (const [client, reason] of unavailable) {
    if (wanted.has(client)) results.skipped.push({ what: clientLabels[client], reason });
  }

  const context: ThroughputContext = { programs, unavailable, scratch, inputDirectory, runs: options.runs, log };
  const sinkHttp = await startS3Sink();
  const discardHttp = await startDiscardServer();
  const httpTarget = sinkTarget('sink-http', 'S3 sink over HTTP on loopback (discards bytes)', sinkHttp, discardHttp, options.clients, undefined);
  const certificate = ['https', 'tuning', 'switch', 'lambda', 'memory', 'http'].some((name) => options.sections.has(name as 'https')) ? await selfSignedCertificate(scratch) : undefined;
  const sinkHttps = certificate ? await startS3Sink({ tls: certificate }) : undefined;
  const discardHttps = certificate ? await startDiscardServer({ tls: certificate }) : undefined;
  const httpsTarget =
    sinkHttps && discardHttps && certificate
      ? sinkTarget('sink-https', 'S3 sink over HTTPS (self-signed certificate, trusted by every client)', sinkHttps, discardHttps, options.clients, certificate.certFile)
      : undefined;

  try {
    if (options.sections.has('sink')) {
      log('section: S3 sink over HTTP');
      results.sink = await measureThroughput(httpTarget, options.s3Sizes, context);
      await save();
    }
    if (options.sections.has('https') && httpsTarget) {
      log('section: S3 sink over HTTPS');
      results.https = await measureThroughput(httpsTarget, options.s3Sizes, context);
      await save();
    }
    if (options.sections.has('s3rver')) {
      log('section: s3rver');
      const server = await startS3rver({ directory: join(scratch, 's3rver'), bucket: benchBucket, ...benchCredentials });
      try {
        results.s3rver = await measureThroughput(s3rverTarget(server, options.clients), options.s3rverSizes, context);
      } finally {
        await server.close();
      }
      await save();
    }
    const oursMissing = unavailable.get('ours');
    if (options.sections.has('memory')) {
      if (oursMissing) results.skipped.push({ what: 'memory section', reason: oursMissing });
      else {
        // Over HTTPS too: TLS keeps its own copies of what is in flight, and real uploads are TLS.
        // The source comes over the target's scheme, as a function reads its source and writes.
        log('section: memory');
        results.memory = [];
        const schemes: { target: UploadTarget; tls: SelfSignedCertificate | undefined }[] = [
          { target: httpTarget, tls: undefined },
          ...(httpsTarget ? [{ target: httpsTarget, tls: certificate }] : []),
        ];
        for (const { target, tls } of schemes) {
          const source = await startPatternServer(tls);
          try {
            results.memory.push(await measureMemory(target, options.memorySizes, options.memoryRuns, context, source));
            results.memory.push(await measureMemory(target, options.memorySizes, options.memoryRuns, context));
          } finally {
            await source.close();
          }
        }
        await save();
      }
    }
    if (options.sections.has('cold')) {
      log('section: cold start');
      // The naive build only shows what bundling saves: a quick run leaves it out.
      results.coldStart = await measureColdStart(root, join(buildDirectory, 'cold'), options.coldRuns, log, { naive: !options.quick });
      await save();
    }
    if (options.sections.has('tuning')) {
      const tunedMissing = 'error' in workers['ours-tuned'] ? (workers['ours-tuned'] as { error: string }).error : undefined;
      if (oursMissing ?? tunedMissing) results.skipped.push({ what: 'tuning section', reason: (oursMissing ?? tunedMissing)! });
      else {
        log('section: tuning sweep');
        const variants = options.quick ? quickTuningVariants : tuningVariants;
        results.tuning = [await measureTuning(httpTarget, options.tuningSize, options.runs, context, variants)];
        if (httpsTarget) results.tuning.push(await measureTuning(httpsTarget, options.tuningSize, options.runs, context, variants));
        await save();
      }
    }
    if (options.sections.has('switch')) {
      const tunedMissing = 'error' in workers['ours-tuned'] ? (workers['ours-tuned'] as { error: string }).error : undefined;
      if (oursMissing ?? tunedMissing) results.skipped.push({ what: 'switch section', reason: (oursMissing ?? tunedMissing)! });
      else {
        log('section: single PUT or parts, by size');
        results.putSwitch = [];
        for (const target of [httpTarget, ...(httpsTarget ? [httpsTarget] : [])]) {
          for (const size of options.switchSizes) results.putSwitch.push(await measureTuning(target, size, options.runs, context, switchVariants));
        }
        await save();
      }
    }
    if (options.sections.has('lambda')) {
      if (oursMissing) results.skipped.push({ what: 'lambda section', reason: oursMissing });
      else {
        // Over HTTPS: what a function sends to S3.
        log('section: Lambda memory sizes as CPU quotas');
        results.lambdaMemory = [await measureLambdaMemory(httpsTarget ?? httpTarget, options.lambdaSize, options.runs, context)];
        await save();
      }
    }
    if (options.sections.has('azureblob')) {
      log('section: Azure Blob into Azurite');
      const rclone = tools.rclone?.available ? tools.rclone.path : undefined;
      results.azureblob = await measureAzureBlob(options.sizes, { scratch, inputDirectory, runs: options.runs, rclone, log });
      await save();
    }
    if (options.sections.has('http')) {
      log('section: http destination beside curl');
      results.http = await measureHttpUploads({ sizes: options.sizes, runs: options.runs, scratch, inputDirectory, buildDirectory, certificate, log });
      await save();
    }
    if (options.sections.has('youtube')) {
      log('section: youtube');
      results.youtube = await measureYouTube(options.sizes, options.runs, scratch, join(buildDirectory, 'youtube'), log);
      await save();
    }
    if (options.sections.has('dropbox')) {
      log('section: dropbox (chunk sweep, then the default chunk at every size)');
      results.dropbox = await measureDropbox({
        buildDirectory,
        scratch,
        node: process.execPath,
        sizes: options.sizes,
        sweepSize: options.quick ? 16 * MiB : 256 * MiB,
        defaultChunkMiB: defaultChunkBytes / MiB,
        runs: options.runs,
        log,
      });
      await save();
    }
    if (options.sections.has('ftp')) {
      log('section: FTP');
      const curl = await ensureDebianTool('/usr/bin/curl', 'curl');
      tools.rclone ??= results.tools.rclone = await ensureDebianTool('/usr/bin/rclone', 'rclone', ['version']);
      if (!curl.available) results.skipped.push({ what: 'ftp section', reason: curl.reason });
      else {
        const rclone = tools.rclone.available ? tools.rclone.path : undefined;
        results.ftp = await measureFtp(options.sizes, { node: process.execPath, curl: curl.path, rclone, scratch, inputDirectory, runs: options.runs, log });
        await save();
      }
    }
    if (options.sections.has('pipeline')) {
      log('section: pipeline');
      results.pipeline = await measurePipeline(log, options.quick);
      await save();
    }
    if (options.sections.has('requests')) {
      log('section: requests (AWS requests per delivery)');
      results.requests = await measureRequests(log, options.quick);
      await save();
    }
    if (options.sections.has('sftp')) {
      log('section: sftp (OpenSSH sshd)');
      results.sftp = await measureSftp(options.sizes, { scratch, inputDirectory, buildDirectory, runs: options.runs, log });
      await save();
    }
    if (options.sections.has('facebook')) {
      log('section: facebook');
      results.facebook = await measureFacebook(options.sizes, { scratch, buildDirectory, runs: options.runs, log });
      await save();
    }
  } finally {
    await Promise.all([sinkHttp.close(), discardHttp.close(), sinkHttps?.close(), discardHttps?.close()]);
  }
  await save();
  console.log(renderReport(results));
  if (results.destinations && results.destinations.length > 0) {
    console.log(`\n## per destination, 64 MiB and 1 GiB, beside the best peer and the ceiling\n${renderDestinationSummary(results.destinations)}`);
    if (results.destinations.some((row) => row.size === GiB)) {
      console.log(`\n## Lambda memory per destination at 1 GiB (model: CPU share = memory ÷ 1,769 MB, network ${assumedNetworkMibPerSecond} MiB/s)\n${renderLambdaModel(results.destinations, lambdaMemoryOf)}`);
    }
  }
  if (results.requests) console.log(`\n${renderRequests(results.requests)}`);
  if (results.azureblob) console.log(`\n${renderAzureBlobBench(results.azureblob)}`);
  if (results.sftp) console.log(renderSftpTable(results.sftp));
  if (results.http) console.log(`\n${renderHttpUploads(results.http)}`);
  if (results.dropbox) console.log(renderDropbox(results.dropbox));
  if (results.facebook) console.log(`\n${renderFacebookTable(results.facebook)}`);
  if (results.ftp) console.log(renderFtp(results.ftp));
  log(`results written to ${options.out}`);
} finally {
  cleanUp();
}
