import { awsThrottleScenario } from './aws-throttle.ts';
import { crashScenario } from './crash.ts';
import { deadLetterScenario } from './dead-letter.ts';
import { duplicateScenario } from './duplicate.ts';
import { httpErrorsScenario } from './http-errors.ts';
import { lostAnswerScenario } from './lost-answer.ts';
import { resetScenario } from './reset.ts';
import { restartScenario } from './restart.ts';
import type { Scenario } from './scenario.ts';
import { stallScenario } from './stall.ts';
import { timeoutScenario } from './timeout.ts';

/** Every fault scenario, in the order the full run takes them. */
export const scenarios: readonly Scenario[] = [
  resetScenario,
  httpErrorsScenario,
  awsThrottleScenario,
  stallScenario,
  lostAnswerScenario,
  duplicateScenario(),
  crashScenario,
  timeoutScenario,
  restartScenario,
  deadLetterScenario,
];
