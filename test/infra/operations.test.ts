import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { destinations } from '../../functions/destinations/registry.ts';
import { OperationsAlarms } from '../../infra/constructs/alarms.ts';
import type { DestinationPipeline } from '../../infra/constructs/destination-pipeline.ts';
import { stackPropsFromContext } from '../../infra/stack.ts';
import { logicalId, synthesizeStack, type SynthesizedStack } from './synthesize.ts';

let deployed: SynthesizedStack;
const topicArn = 'arn:aws:sns:eu-west-1:123456789012:ops';

beforeAll(() => {
  deployed = synthesizeStack({ alarmTopicArn: topicArn, failureRatioThreshold: 0.25, oldestMessageAgeSeconds: 600, ingressServerErrorThreshold: 3 });
});

/** The dashboard's body as CloudFormation renders it, joined into one string (tokens as `<id>`). */
function dashboardBody(): string {
  const [dashboard] = Object.values(deployed.template.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
}

function alarmsWith(description: RegExp): Record<string, any>[] {
  return Object.values(deployed.template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) => description.test(String(alarm.Properties.AlarmDescription)));
}

describe('Construct: OperationsDashboard', () => {
  it('has a row per destination with its deliveries, latency percentiles, queue, dead letters and function', () => {
    const body = dashboardBody();

    for (const { type } of destinations) {
      const pipeline = deployed.stack.node.findChild(`Destination-${type}`) as DestinationPipeline;
      expect(body).toContain(`## ${type}`);
      const metric = (name: string): string => `"UploadDestinations","${name}","destination","${type}","service","upload-destinations"`;
      expect(body).toContain(metric('DeliveriesSucceeded'));
      expect(body).toContain(metric('DeliveriesFailed'));
      expect(body).toContain(metric('BytesDelivered'));
      expect(body).toContain(`${metric('TimeToDelivered')},{"label":"p50","stat":"p50"}`);
      expect(body).toContain(`${metric('TimeToDelivered')},{"label":"p99","stat":"p99"}`);
      const queueName = (queue: IConstruct): string => `"QueueName","{"Fn::GetAtt":["${logicalId(queue)}","QueueName"]}"`;
      expect(body).toContain(`"AWS/SQS","ApproximateAgeOfOldestMessage",${queueName(pipeline.queue)}`);
      expect(body).toContain(`"AWS/SQS","ApproximateNumberOfMessagesVisible",${queueName(pipeline.queue)}`);
      expect(body).toContain(`"AWS/SQS","ApproximateNumberOfMessagesVisible",${queueName(pipeline.deadLetterQueue)}`);
      expect(body).toContain(`"AWS/Lambda","Errors","FunctionName","{"Ref":"${logicalId(pipeline.function)}"}"`);
      expect(body).toContain(`"AWS/Lambda","Throttles","FunctionName","{"Ref":"${logicalId(pipeline.function)}"}"`);
    }
    expect(body).toContain('SEARCH(\'{UploadDestinations,service,door,answer} MetricName=\\"Requests\\"\', \'Sum\', 300)');
  });
});

describe('Construct: OperationsAlarms', () => {
  it('alarms per destination on the failure ratio, from the delivery metrics, with the threshold from context', () => {
    const alarms = alarmsWith(/deliveries failed for good/);

    expect(alarms).toHaveLength(destinations.length);
    const [alarm] = alarms;
    expect(alarm?.Properties).toMatchObject({ Threshold: 0.25, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [topicArn] });
    const expression = alarm?.Properties.Metrics.find((query: { Expression?: string }) => query.Expression);
    expect(expression.Expression).toBe('IF((succeeded + failed) >= 5, failed / (succeeded + failed), 0)');
  });

  it('alarms per destination on the age of the oldest message', () => {
    const alarms = alarmsWith(/has waited more than 600 s in its queue/);

    expect(alarms).toHaveLength(destinations.length);
    expect(alarms[0]?.Properties).toMatchObject({ MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 600, Statistic: 'Maximum', AlarmActions: [topicArn] });
  });

  it("alarms on the API's 5xx answers", () => {
    deployed.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5XXError',
      Namespace: 'AWS/ApiGateway',
      Threshold: 3,
      Statistic: 'Sum',
      AlarmActions: [topicArn],
    });
  });

  it('reads the thresholds from context', () => {
    const app = new App({ context: { failureRatioThreshold: '0.5', oldestMessageAgeSeconds: '120', ingressServerErrorThreshold: '9' } });

    expect(stackPropsFromContext(app.node)).toMatchObject({ failureRatioThreshold: 0.5, oldestMessageAgeSeconds: 120, ingressServerErrorThreshold: 9 });
  });

  it('refuses a failure ratio outside 0 to 1', () => {
    const stack = new Stack(new App(), 'Test');
    const api = new apigateway.RestApi(stack, 'Api');
    api.root.addMethod('GET');
    const queue = new sqs.Queue(stack, 'Queue');

    expect(() => new OperationsAlarms(stack, 'Alarms', { destinations: [{ destinationType: 's3', queue }], api, failureRatioThreshold: 10 })).toThrow(
      'failureRatioThreshold must be above 0 and at most 1, got 10',
    );
    expect(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm', Match.anyValue())).toEqual({});
  });
});
