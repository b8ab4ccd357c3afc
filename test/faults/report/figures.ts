/** The issue's figures for a set of deliveries, counted from the servers' side. */
export interface Figures {
  readonly deliveries: number;
  /** Bytes of the files delivered (each once). */
  readonly fileBytes: number;
  /** Not delivered, not failed with a reason, not in a dead-letter queue, once the run drained. */
  readonly lost: number;
  /** Deliveries whose file was written more than once at the destination (a second version, video or file). */
  readonly deliveredTwice: number;
  /** Partial results left: open multipart uploads, staged blocks, temporary files, open sessions, wrong content under a final name. */
  readonly partialLeft: number;
  /** Deliveries that ended `failed` although every fault they met was transient and attempts remained. */
  readonly wronglyFailed: number;
  /** Upload bytes the servers received beyond the bytes of the files delivered. */
  readonly resentBytes: number;
  readonly failures: number;
  /** Failures whose job says why (an error code and message). */
  readonly failuresWithReason: number;
  readonly deadLetters: number;
  /** Dead-letter messages that name their job (token and destination index). */
  readonly deadLettersNamingJob: number;
  /** Deliveries whose job state, dead-letter message and callback do not agree. */
  readonly disagreements: number;
  /** Deliveries whose callback for an outcome came more than once (callbacks are sent at least once). */
  readonly callbacksRepeated: number;
}

export const noFigures: Figures = {
  deliveries: 0,
  fileBytes: 0,
  lost: 0,
  deliveredTwice: 0,
  partialLeft: 0,
  wronglyFailed: 0,
  resentBytes: 0,
  failures: 0,
  failuresWithReason: 0,
  deadLetters: 0,
  deadLettersNamingJob: 0,
  disagreements: 0,
  callbacksRepeated: 0,
};

/** Figures of two sets of deliveries together. */
export function addFigures(a: Figures, b: Figures): Figures {
  return Object.fromEntries(Object.keys(a).map((name) => [name, a[name as keyof Figures] + b[name as keyof Figures]])) as unknown as Figures;
}

/** Resent bytes over file bytes, as a fraction. */
export function resentRatio(figures: Figures): number {
  return figures.fileBytes === 0 ? 0 : figures.resentBytes / figures.fileBytes;
}

/** One target of the issue, checked against figures. */
export interface TargetCheck {
  readonly figure: string;
  readonly target: string;
  readonly value: string;
  readonly met: boolean;
}

/** The targets, checked. */
export function checkTargets(figures: Figures): TargetCheck[] {
  const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;
  const share = (part: number, whole: number): string => (whole === 0 ? '100 % (none)' : `${percent(part / whole)} (${part}/${whole})`);
  return [
    { figure: 'jobs lost (not final, not in a DLQ, after the run drains)', target: '0', value: String(figures.lost), met: figures.lost === 0 },
    { figure: 'files delivered twice', target: '0', value: String(figures.deliveredTwice), met: figures.deliveredTwice === 0 },
    { figure: 'partial results left', target: '0', value: String(figures.partialLeft), met: figures.partialLeft === 0 },
    { figure: 'failed although every fault was transient and attempts remained', target: '0', value: String(figures.wronglyFailed), met: figures.wronglyFailed === 0 },
    { figure: 'bytes re-sent because of a fault, over the bytes of the files', target: '≤ 15 %', value: percent(resentRatio(figures)), met: resentRatio(figures) <= 0.15 },
    { figure: 'failures with a reason in the job', target: '100 %', value: share(figures.failuresWithReason, figures.failures), met: figures.failuresWithReason === figures.failures },
    { figure: 'DLQ messages naming the job', target: '100 %', value: share(figures.deadLettersNamingJob, figures.deadLetters), met: figures.deadLettersNamingJob === figures.deadLetters },
    { figure: 'job state, DLQ message and callback agree', target: '100 %', value: `${figures.disagreements} disagreeing`, met: figures.disagreements === 0 },
  ];
}
