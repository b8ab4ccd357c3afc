import { readFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';

/** The machine a measured run ran on, as its results file records it. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly loadAverageAtStart: readonly number[];
}

/** Describes this machine and its load now (the start of a run). */
export async function describeMachine(): Promise<MachineInfo> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? 'Linux';
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    os: `${pretty}, kernel ${release()}`,
    node: process.versions.node,
    loadAverageAtStart: loadavg(),
  };
}
