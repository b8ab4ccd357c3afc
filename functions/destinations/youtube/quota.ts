let pacific: Intl.DateTimeFormat | undefined;

/**
 * Los Angeles' wall clock, made on first use: building it loads ICU's time-zone data (25–30 ms
 * measured at the function's import), which only a delivery that meets a quota needs.
 */
function pacificFormat(): Intl.DateTimeFormat {
  pacific ??= new Intl.DateTimeFormat('en-US', {
    timeZone: 'America/Los_Angeles',
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return pacific;
}

/** The wall-clock time in Los Angeles at `instant`, as if it were UTC (for offset arithmetic). */
function pacificWallClock(instant: number): { year: number; month: number; day: number; asUtc: number } {
  const parts = Object.fromEntries(pacificFormat().formatToParts(new Date(instant)).map((part) => [part.type, Number(part.value)]));
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return { year, month, day, asUtc: Date.UTC(year, month - 1, day, hour, minute, second) };
}

/**
 * The next midnight in Los Angeles after `now`, when YouTube's daily quotas reset. Computed with the
 * real time zone, so it is 07:00 UTC in summer (PDT) and 08:00 UTC in winter (PST), including on
 * the days the clocks change (which they do at 02:00, never at midnight).
 */
export function nextPacificMidnight(now: Date = new Date()): Date {
  const today = pacificWallClock(now.getTime());
  const midnightAsUtc = Date.UTC(today.year, today.month - 1, today.day + 1);
  // The offset in force at midnight, found from a first guess at the instant (at most an hour off).
  let instant = midnightAsUtc - (today.asUtc - Math.floor(now.getTime() / 1000) * 1000);
  instant = midnightAsUtc - (pacificWallClock(instant).asUtc - instant);
  return new Date(instant);
}
