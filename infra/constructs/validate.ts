/**
 * Throws unless `value` is an integer from `minimum` to `maximum`, naming the construct, the prop,
 * the value given and the range expected.
 */
export function requireIntegerInRange(owner: string, name: string, value: number, minimum: number, maximum: number): void {
  if (!Number.isInteger(value) || value < minimum || value > maximum) {
    throw new Error(`${owner}: ${name} must be an integer from ${minimum} to ${maximum}, got ${value}`);
  }
}
