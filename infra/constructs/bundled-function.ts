import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: where package-lock.json lives and where entry paths start. */
const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * ESM bundles have no `require`; some dependencies (@azure/storage-blob) still call it for Node
 * built-ins, so the bundle defines one.
 */
const requireBanner =
  "import { createRequire as topLevelCreateRequire } from 'node:module'; const require = topLevelCreateRequire(import.meta.url);";

export interface BundledFunctionProps {
  /** The handler file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** @default - no environment variables */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Concurrency reserved for (and capped at) this function.
   * @default - none: it shares the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
}

/**
 * A Lambda function bundled on its own by local esbuild (no Docker, so `cdk synth` works offline):
 * ESM, minified, Node 22 on arm64, with the AWS SDK clients it imports bundled in rather than
 * taken from the runtime, so each function ships only what it uses and its SDK version is the
 * one the tests ran against. Its role may write only to its own log group (kept a month).
 */
export class BundledFunction extends nodejs.NodejsFunction {
  /** Always set: the constructor passes its own. */
  declare public readonly role: iam.IRole;

  public constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH });
    // An explicit role instead of the default one, which carries the broad
    // AWSLambdaBasicExecutionRole managed policy (log writes to every log group).
    const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: path.join(repositoryRoot, props.entry),
      handler: 'handler',
      projectRoot: repositoryRoot,
      depsLockFilePath: path.join(repositoryRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      environment: { ...props.environment },
      ...(props.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrency }),
      logGroup,
      role,
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        banner: requireBanner,
        mainFields: ['module', 'main'],
        minify: true,
        target: 'node22',
        sourceMap: false,
        bundleAwsSDK: true,
        // Native addons cannot ship in a platform-neutral bundle. ssh2 (SFTP) loads its optional
        // ones (its crypto binding, cpu-features) in try/catch and falls back to Node's crypto,
        // so they are bundled as empty modules instead of failing the build; and its CommonJS
        // code reads `__dirname`, which an ES module lacks: it becomes the bundle's folder.
        loader: { '.node': 'empty' },
        define: { __dirname: 'import.meta.dirname' },
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime the service is built and tested on (engines, esbuild target); moving on is a deliberate upgrade.',
    });
  }
}
