/**
 * Whether a section's verified run (one per client and size, checked byte for byte, which also
 * warms caches) is also its timed run. With one run per client (`--quick`) it is: timing a second
 * upload of the same file would double the section's time for a figure no steadier, and keeps
 * `--quick` within its two minutes. Where a server checks as it receives (the S3 sink), such a
 * run's figures include the checks; `--quick` figures are for development, the full run decides.
 * The timed rounds then start at 1.
 */
export function verifiedRunIsTimed(runs: number): boolean {
  return runs === 1;
}
