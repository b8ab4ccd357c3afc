/** A fault armed on a proxy: what it does, which traffic it hits, and how many times. */
export interface ArmedRule<Target, Fault> {
  /** Names the fault in the proxy's records and in the run's results. */
  readonly label: string;
  /** Which requests or connections it hits. @default every one */
  readonly match?: (target: Target) => boolean;
  /** How many it hits before it is used up. @default 1 */
  readonly times?: number;
  /** The fault, or how to draw it for one target (a random offset, say). */
  readonly fault: Fault | ((target: Target) => Fault);
}

/** One use of a rule: its label and the fault drawn for the target. */
export interface TakenFault<Fault> {
  readonly label: string;
  readonly fault: Fault;
  /** Puts the use back, for a target the fault could not act on (a connection that closed first). */
  giveBack(): void;
}

/**
 * Rules armed on one proxy, taken by the traffic they match in the order they were armed, so a
 * scenario states exactly which requests fail and everything else passes untouched.
 */
export class RuleBook<Target, Fault> {
  readonly #rules: { rule: ArmedRule<Target, Fault>; remaining: number }[] = [];
  /** How many times each label's fault was acted out. */
  readonly fired = new Map<string, number>();

  public arm(rule: ArmedRule<Target, Fault>): void {
    this.#rules.push({ rule, remaining: rule.times ?? 1 });
  }

  /** Disarms every rule not yet used up. */
  public clear(): void {
    this.#rules.length = 0;
  }

  /** Uses not yet taken, of every rule. */
  public get pending(): number {
    return this.#rules.reduce((sum, entry) => sum + entry.remaining, 0);
  }

  /** The first armed rule `target` matches, used once; undefined when none does. */
  public take(target: Target): TakenFault<Fault> | undefined {
    const entry = this.#rules.find((candidate) => candidate.remaining > 0 && (candidate.rule.match?.(target) ?? true));
    if (!entry) return undefined;
    entry.remaining -= 1;
    const { rule } = entry;
    const fault = typeof rule.fault === 'function' ? (rule.fault as (target: Target) => Fault)(target) : rule.fault;
    this.fired.set(rule.label, (this.fired.get(rule.label) ?? 0) + 1);
    return {
      label: rule.label,
      fault,
      giveBack: () => {
        entry.remaining += 1;
        this.fired.set(rule.label, (this.fired.get(rule.label) ?? 1) - 1);
      },
    };
  }
}
