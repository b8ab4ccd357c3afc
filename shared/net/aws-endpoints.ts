/**
 * The DNS suffix of the AWS partition a region belongs to (the SDK's partition table): China's
 * regions, the European Sovereign Cloud and the isolated regions have domains of their own.
 */
const partitionSuffixes: readonly (readonly [RegExp, string])[] = [
  [/^cn-/, 'amazonaws.com.cn'],
  [/^eusc-/, 'amazonaws.eu'],
  [/^us-iso-/, 'c2s.ic.gov'],
  [/^us-isob-/, 'sc2s.sgov.gov'],
  [/^eu-isoe-/, 'cloud.adc-e.uk'],
  [/^us-isof-/, 'csp.hci.ic.gov'],
];

/** `https://<service>.<region>.<the partition's domain>`: a service's regional endpoint. */
export function awsServiceEndpoint(service: string, region: string): string {
  const suffix = partitionSuffixes.find(([pattern]) => pattern.test(region))?.[1] ?? 'amazonaws.com';
  return `https://${service}.${region}.${suffix}`;
}
