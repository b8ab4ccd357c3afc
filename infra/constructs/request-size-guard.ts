import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { maxRequestBodyBytes } from '../../shared/contract/limits.ts';

/** The largest request body the API accepts, in the KB steps WAF counts in. */
export const maxRequestBodyKilobytes = maxRequestBodyBytes / 1024;

export interface RequestSizeGuardProps {
  /** The API Gateway stage to protect. */
  readonly stage: apigateway.Stage;
}

/**
 * API Gateway has no setting for the largest request body (only its fixed 10 MB), so a web ACL
 * answers 413 to bodies over {@link maxRequestBodyKilobytes} before they reach the ingress. WAF
 * reads at most that much of a body; anything longer counts as a match and is refused too.
 */
export class RequestSizeGuard extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;

  public constructor(scope: Construct, id: string, props: RequestSizeGuardProps) {
    super(scope, id);
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('upload-destinations-api'),
      associationConfig: {
        requestBody: { API_GATEWAY: { defaultSizeInspectionLimit: `KB_${maxRequestBodyKilobytes}` } },
      },
      rules: [
        {
          name: 'RequestBodyTooLarge',
          priority: 0,
          action: { block: { customResponse: { responseCode: 413 } } },
          statement: {
            sizeConstraintStatement: {
              fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
              comparisonOperator: 'GT',
              size: maxRequestBodyKilobytes * 1024,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          visibilityConfig: visibility('upload-destinations-request-body-too-large'),
        },
      ],
    });
    const association = new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
    // The stage ARN is assembled from names, so CloudFormation would not wait for the stage by itself.
    association.node.addDependency(props.stage);
  }
}
