/**
 * Runs `work` for every item of `items` with at most `concurrency` running at once, pulling the
 * next item only when a slot is free (so a streamed source is never read ahead of the uploads).
 * The first failure (of a work item, or of `items` itself) stops pulling, waits for the running
 * ones to settle and is rethrown: nothing is still being sent when this returns or throws.
 */
export async function forEachConcurrently<Item, Result>(
  items: AsyncIterable<Item> | Iterable<Item>,
  concurrency: (item: Item) => number,
  work: (item: Item, index: number) => Promise<Result>,
): Promise<Result[]> {
  const results: Result[] = [];
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let index = 0;
  try {
    for await (const item of items) {
      const position = index++;
      const task = work(item, position).then(
        (result) => {
          results[position] = result;
        },
        (error: unknown) => {
          failure ??= { error };
        },
      );
      const tracked = task.finally(() => running.delete(tracked));
      running.add(tracked);
      while (running.size >= concurrency(item) && !failure) await Promise.race(running);
      if (failure) break;
    }
  } finally {
    await Promise.all(running);
  }
  if (failure) throw failure.error;
  return results;
}
