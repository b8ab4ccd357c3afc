import type * as z from 'zod/mini';
import { Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { destinationTestSchema, uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { retryRequestSchema } from '../../shared/contract/job-queries.ts';
import { requestModelSchema } from '../../shared/contract/documents.ts';
import { RequestSizeGuard } from './request-size-guard.ts';

export interface UploadsApiProps {
  /** The ingress function: every route proxies to it. */
  readonly handler: lambda.IFunction;
  /**
   * Steady requests per second allowed to each API key.
   * @default 50
   */
  readonly throttleRateLimit?: number;
  /**
   * Requests allowed in a burst for each API key.
   * @default 100
   */
  readonly throttleBurstLimit?: number;
}

/**
 * The HTTP API: `POST /v1/uploads`, `GET /v1/uploads` (the list), `GET /v1/uploads/{token}`,
 * `POST /v1/uploads/{token}/retry`, `POST /v1/destinations/test` and `GET /v1/canonical-user`, all
 * proxied to the ingress. Callers need an API key (throttled by a usage plan); the gateway
 * rejects bodies that do not fit the request model, generated from the schema the ingress
 * validates with, and bodies that are too large. Access is logged; bodies never are, because
 * they carry inline credentials.
 */
export class UploadsApi extends Construct {
  public readonly restApi: apigateway.RestApi;
  public readonly apiKey: apigateway.IApiKey;

  public constructor(scope: Construct, id: string, props: UploadsApiProps) {
    super(scope, id);
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      restApiName: 'upload-destinations',
      description: 'Upload Destinations: deliver a file to S3, Azure Blob, YouTube and more.',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Stage logging needs the account-wide API Gateway logging role.
      cloudWatchRole: true,
      defaultMethodOptions: { apiKeyRequired: true },
      deployOptions: {
        stageName: 'prod',
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
      },
    });
    // The stack outputs the URL under a plain name; the RestApi's own output would repeat it.
    this.restApi.node.tryRemoveChild('Endpoint');
    this.addRoutes(props.handler);

    const usagePlan = this.restApi.addUsagePlan('UsagePlan', {
      name: 'upload-destinations',
      throttle: { rateLimit: props.throttleRateLimit ?? 50, burstLimit: props.throttleBurstLimit ?? 100 },
      apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
    });
    this.apiKey = this.restApi.addApiKey('ApiKey', { description: 'Key for systems that send upload jobs.' });
    usagePlan.addApiKey(this.apiKey);

    new RequestSizeGuard(this, 'RequestSizeGuard', { stage: this.restApi.deploymentStage });

    const callersHaveKeys = 'Callers are other systems, authenticated by API key and throttled by the usage plan; there are no end users to sign in.';
    Validations.of(this.restApi).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: callersHaveKeys },
      { id: 'AwsSolutions-COG4', reason: callersHaveKeys },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-wide API Gateway logging role uses the AWS policy made for that role and nothing else.',
      },
    );
  }

  private addRoutes(handler: lambda.IFunction): void {
    const integration = new apigateway.LambdaIntegration(handler, { allowTestInvoke: false });
    // The body is validated by the ingress, whose 400 names every offending field; API Gateway's
    // would say only "Invalid request body". The model still documents the body.
    const validator = this.restApi.addRequestValidator('Validator', {
      validateRequestBody: false,
      validateRequestParameters: true,
    });
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason: 'Parameters are validated here; bodies by the ingress with the same schema, so the 400 names every offending field.',
    });
    // The gateway keeps each body's model (its SDKs and console show them); the ingress validates.
    const model = (modelName: string, schema: z.ZodMiniType) =>
      ({ 'application/json': this.restApi.addModel(modelName, { modelName, contentType: 'application/json', schema: requestModelSchema(schema) as apigateway.JsonSchema }) });

    const version = this.restApi.root.addResource('v1');
    const uploads = version.addResource('uploads');
    uploads.addMethod('POST', integration, {
      requestValidator: validator,
      requestModels: model('UploadRequest', uploadRequestSchema),
    });
    uploads.addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: Object.fromEntries(['state', 'since', 'limit', 'cursor'].map((name) => [`method.request.querystring.${name}`, false])),
    });
    const job = uploads.addResource('{token}');
    job.addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.path.token': true },
    });
    job.addResource('retry').addMethod('POST', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.path.token': true },
      requestModels: model('RetryRequest', retryRequestSchema),
    });
    version.addResource('destinations').addResource('test').addMethod('POST', integration, {
      requestValidator: validator,
      requestModels: model('DestinationTest', destinationTestSchema),
    });
    version.addResource('canonical-user').addMethod('GET', integration, { requestValidator: validator });
  }
}
