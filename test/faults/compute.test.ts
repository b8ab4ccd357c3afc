import { describeFaultRun } from './fault-run.ts';
import { crashScenario } from './scenarios/crash.ts';
import { deadLetterScenario } from './scenarios/dead-letter.ts';
import { duplicateScenario } from './scenarios/duplicate.ts';
import { restartScenario } from './scenarios/restart.ts';

describeFaultRun('Fault run (small): crashes, restarts, duplicates and dead letters', [duplicateScenario(), crashScenario, restartScenario, deadLetterScenario]);
