import { describeFaultRun } from './fault-run.ts';
import { awsThrottleScenario } from './scenarios/aws-throttle.ts';
import { httpErrorsScenario } from './scenarios/http-errors.ts';
import { lostAnswerScenario } from './scenarios/lost-answer.ts';
import { resetScenario } from './scenarios/reset.ts';
import { stallScenario } from './scenarios/stall.ts';

describeFaultRun('Fault run (small): faults of requests and connections', [resetScenario, httpErrorsScenario, awsThrottleScenario, lostAnswerScenario, stallScenario]);
