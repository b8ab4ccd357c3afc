import type { MachineInfo } from '../../support/machine.ts';
import type { ScenarioResult } from '../harness/run-scenario.ts';
import type { RuntimeSettings } from '../harness/runtime.ts';

import type { Figures, TargetCheck } from './figures.ts';

/** What `npm run faults` writes to fault-results/latest.json. */
export interface FaultResults {
  readonly generatedAt: string;
  durationSeconds: number;
  readonly machine: MachineInfo;
  loadAverageAtEnd: readonly number[];
  readonly options: Readonly<Record<string, unknown>>;
  readonly settings: RuntimeSettings;
  /** Destinations of the registry the run could not drive, each with why. */
  readonly skipped: { readonly what: string; readonly reason: string }[];
  readonly scenarios: ScenarioResult[];
  /** The fault scenarios' figures together (the load's are its own). */
  total: Figures;
  /** The targets on `total`, then the load's. */
  targets: TargetCheck[];

  readonly definitions: Readonly<Record<string, string>>;
}

export const definitions = {
  lost: 'a delivery not at its destination that is neither failed with a reason nor in a dead-letter queue, once the run drained (or a job that says succeeded while the destination lacks the file)',
  deliveredTwice: 'a delivery whose file was written under its name more than once, as the destination\u2019s server counts: successful PutObject/CompleteMultipartUpload, Put Blob/Put Block List, videos with its title, Dropbox commits, HTTP uploads answered 2xx, SFTP renames onto the name',
  partialLeft: 'open multipart uploads, blobs with uncommitted blocks, SFTP temporary files, unfinished upload sessions (YouTube, Dropbox, not closed) at the end of a scenario, and other bytes than the source under a final name',
  wronglyFailed: 'a delivery that ended failed in a scenario whose faults were transient and left attempts (fewer faults per destination than attempts), or after its dead-letter queue was redriven',
  resentBytes: 'upload body bytes the destinations\u2019 servers received (at the proxy in front of each; for SFTP the wire bytes less the SSH cost per connection and per byte, calibrated at start) minus the bytes of the files delivered',
  disagreements: 'a delivery whose job state, destination contents, dead-letter messages and callbacks (signed, the last one the job\u2019s state) do not agree',
  callbacksRepeated: 'a delivery whose callback for one outcome came more than once: callbacks are sent at least once, and a function that ends between calling back and recording it sends it again',
  peakConcurrentUploads: 'the most uploads with a request (or SSH connection) open at once at the destination\u2019s server',
};
