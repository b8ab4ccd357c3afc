import { describe, expect, it } from 'vitest';
import { awsServiceEndpoint } from '../../shared/net/aws-endpoints.ts';

describe('Function: awsServiceEndpoint', () => {
  it.each([
    ['eu-west-1', 'https://dynamodb.eu-west-1.amazonaws.com'],
    ['us-gov-west-1', 'https://dynamodb.us-gov-west-1.amazonaws.com'],
    ['cn-northwest-1', 'https://dynamodb.cn-northwest-1.amazonaws.com.cn'],
    ['eusc-de-east-1', 'https://dynamodb.eusc-de-east-1.amazonaws.eu'],
    ['us-iso-east-1', 'https://dynamodb.us-iso-east-1.c2s.ic.gov'],
    ['us-isob-east-1', 'https://dynamodb.us-isob-east-1.sc2s.sgov.gov'],
    ['eu-isoe-west-1', 'https://dynamodb.eu-isoe-west-1.cloud.adc-e.uk'],
    ['us-isof-south-1', 'https://dynamodb.us-isof-south-1.csp.hci.ic.gov'],
  ])('puts a service of %s under its partition’s domain', (region, endpoint) => {
    expect(awsServiceEndpoint('dynamodb', region)).toBe(endpoint);
  });
});
