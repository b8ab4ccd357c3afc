import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Ingress } from '../../infra/constructs/ingress.ts';
import { maxRequestBodyKilobytes } from '../../infra/constructs/request-size-guard.ts';
import type { UploadsApi } from '../../infra/constructs/uploads-api.ts';
import { destinationTestSchema, uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { retryRequestSchema } from '../../shared/contract/job-queries.ts';
import { requestModelSchema } from '../../shared/contract/documents.ts';
import { logicalId, synthesizeStack, type SynthesizedStack } from './synthesize.ts';

let deployed: SynthesizedStack;
let api: UploadsApi;
let ingressFunctionId: string;

beforeAll(() => {
  deployed = synthesizeStack();
  api = deployed.stack.node.findChild('Api') as UploadsApi;
  ingressFunctionId = logicalId((deployed.stack.node.findChild('Ingress') as Ingress).function);
});

/** The logical ID of the API resource at `path`, e.g. `/v1/uploads/{token}`. */
function resourceId(path: string): string {
  const resource = api.restApi.root.resourceForPath(path);
  return logicalId(resource);
}

describe('Construct: UploadsApi', () => {
  it.each([
    ['POST', '/v1/uploads'],
    ['GET', '/v1/uploads/{token}'],
    ['GET', '/v1/canonical-user'],
  ])('routes %s %s to the ingress by Lambda proxy, with an API key required', (method, path) => {
    deployed.template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: method,
      ResourceId: { Ref: resourceId(path) },
      ApiKeyRequired: true,
      RequestValidatorId: { Ref: Match.stringLikeRegexp('Validator') },
      Integration: {
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        Uri: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [ingressFunctionId, 'Arn'] }])] }),
      },
    });
  });

  it('has these six routes and no other', () => {
    const resources = deployed.template.findResources('AWS::ApiGateway::Resource') as Record<string, { Properties: { PathPart: string; ParentId: unknown } }>;
    const pathOf = (id: unknown): string => {
      const reference = (id as { Ref?: string }).Ref;
      const resource = reference === undefined ? undefined : resources[reference];
      return resource ? `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}` : '';
    };
    const methods = Object.values(deployed.template.findResources('AWS::ApiGateway::Method')).map(
      (method) => `${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId)}`,
    );

    expect(methods.sort()).toEqual([
      'GET /v1/canonical-user',
      'GET /v1/uploads',
      'GET /v1/uploads/{token}',
      'POST /v1/destinations/test',
      'POST /v1/uploads',
      'POST /v1/uploads/{token}/retry',
    ]);
  });

  it('describes each POST body with the model generated from the schema the ingress validates it with, and leaves its validation to the ingress', () => {
    const models = deployed.template.findResources('AWS::ApiGateway::Model');
    const modelOf = (name: string) => Object.entries(models).find(([, model]) => model.Properties.Name === name)!;
    for (const [path, name, schema] of [
      ['/v1/uploads', 'UploadRequest', uploadRequestSchema],
      ['/v1/uploads/{token}/retry', 'RetryRequest', retryRequestSchema],
      ['/v1/destinations/test', 'DestinationTest', destinationTestSchema],
    ] as const) {
      const [modelId, model] = modelOf(name);
      expect(model.Properties).toMatchObject({ ContentType: 'application/json', Schema: requestModelSchema(schema) });
      deployed.template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        ResourceId: { Ref: resourceId(path) },
        RequestModels: { 'application/json': { Ref: modelId } },
      });
    }
    // API Gateway's own body validation answers without naming fields; the ingress names every one.
    deployed.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: false,
      ValidateRequestParameters: true,
    });
  });

  it('requires the token path parameter on GET /v1/uploads/{token}', () => {
    deployed.template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ResourceId: { Ref: resourceId('/v1/uploads/{token}') },
      RequestParameters: { 'method.request.path.token': true },
    });
  });

  it('throttles each API key with a usage plan on the deployed stage', () => {
    deployed.template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 50, BurstLimit: 100 },
      ApiStages: [{ ApiId: { Ref: logicalId(api.restApi) }, Stage: { Ref: logicalId(api.restApi.deploymentStage) } }],
    });
    deployed.template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: { Ref: logicalId(api.apiKey) },
      KeyType: 'API_KEY',
    });
  });

  it('logs access as JSON and never logs request bodies', () => {
    deployed.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
      MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR', DataTraceEnabled: false })],
    });
  });

  it(`refuses request bodies over ${maxRequestBodyKilobytes} KB with a web ACL on the stage`, () => {
    const [webAclId] = Object.keys(deployed.template.findResources('AWS::WAFv2::WebACL'));
    deployed.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      AssociationConfig: { RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: `KB_${maxRequestBodyKilobytes}` } } },
      Rules: [
        Match.objectLike({
          Action: { Block: { CustomResponse: { ResponseCode: 413 } } },
          Statement: {
            SizeConstraintStatement: {
              FieldToMatch: { Body: { OversizeHandling: 'MATCH' } },
              ComparisonOperator: 'GT',
              Size: maxRequestBodyKilobytes * 1024,
              TextTransformations: [{ Priority: 0, Type: 'NONE' }],
            },
          },
        }),
      ],
    });
    const [association] = Object.values(deployed.template.findResources('AWS::WAFv2::WebACLAssociation'));
    expect(association?.Properties.WebACLArn).toEqual({ 'Fn::GetAtt': [webAclId, 'Arn'] });
    expect(association?.DependsOn).toContain(logicalId(api.restApi.deploymentStage));
  });

  it('has a regional endpoint and the account logging role stage logs need', () => {
    deployed.template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    deployed.template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });
});
