import type { DestinationDefinition } from './definition.ts';
import { s3Destination } from './s3/schema.ts';

/**
 * Every destination the service delivers to. Adding one means adding its folder and a line here:
 * the request schema, the queues, the functions and the documents all follow from this list.
 */
export const destinations = [s3Destination] as const satisfies readonly DestinationDefinition[];

export type DestinationType = (typeof destinations)[number]['type'];

export const destinationTypes: readonly DestinationType[] = destinations.map((definition) => definition.type);

export function destinationDefinition(type: string): DestinationDefinition {
  const definition = destinations.find((candidate) => candidate.type === type);
  if (!definition) {
    throw new Error(`unknown destination type '${type}'; supported: ${destinationTypes.join(', ')}`);
  }
  return definition as DestinationDefinition;
}
