import cliProgress from 'cli-progress';
import type { Writable } from 'node:stream';
import { formatBytes } from './job-view.ts';

/** A bar of bytes moved: what is done of how much, at what rate. */
export interface ByteBar {
  update(bytes: number, label?: string): void;
}

/**
 * Progress bars on the terminal (cli-progress): the upload of the file, then each destination's
 * delivery. Off the terminal they print a line every few seconds (`--progress`), or nothing.
 */
export class ProgressBars {
  private readonly bars: cliProgress.MultiBar;

  public constructor(stream: Writable, terminal: boolean) {
    this.bars = new cliProgress.MultiBar(
      {
        stream: stream as unknown as NodeJS.WritableStream,
        format: '{label} |{bar}| {percentage}% {done} of {size} | {rate}/s | ETA {eta_formatted}',
        barsize: 24,
        hideCursor: terminal,
        clearOnComplete: false,
        stopOnComplete: false,
        noTTYOutput: !terminal,
        notTTYSchedule: 1000,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  /** A bar of `total` bytes (unknown: counted up without a total). */
  public add(label: string, total: number | undefined): ByteBar {
    const started = Date.now();
    const bar = this.bars.create(total ?? 1, 0, { label, done: formatBytes(0), size: total === undefined ? '?' : formatBytes(total), rate: formatBytes(0) });
    return {
      update: (bytes, newLabel) => {
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        if (total === undefined) bar.setTotal(Math.max(1, bytes));
        bar.update(bytes, { ...(newLabel ? { label: newLabel } : {}), done: formatBytes(bytes), rate: formatBytes(Math.round(bytes / seconds)) });
      },
    };
  }

  public stop(): void {
    this.bars.stop();
  }
}
