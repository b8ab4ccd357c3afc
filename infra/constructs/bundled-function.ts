import path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionBundle, repositoryRoot } from '../function-bundle.ts';

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
 * A Lambda function bundled on its own by local esbuild (no Docker, so `cdk synth` works offline),
 * as `functionBundle` says, for Node 22 on arm64. Its role may write only to its own log group
 * (kept a month).
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
        target: functionBundle.target,
        minify: functionBundle.minify,
        mainFields: [...functionBundle.mainFields],
        banner: functionBundle.banner,
        loader: functionBundle.loader,
        define: functionBundle.define,
        esbuildArgs: { '--alias': Object.entries(functionBundle.alias).map(([name, replacement]) => `${name}=${replacement}`) },
        sourceMap: false,
        bundleAwsSDK: true,
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime the service is built and tested on (engines, esbuild target); moving on is a deliberate upgrade.',
    });
  }
}
