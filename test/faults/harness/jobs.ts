/** One delivery the run makes: one job with one destination. */
export interface PlannedDelivery {
  /** Unique in the run and safe as a file name: it names the file at the destination. */
  readonly name: string;
  readonly type: string;
  readonly size: number;
  /** Where the function reads it: the staging bucket, or an HTTP URL. */
  readonly via: 'staging' | 'url';
  /**
   * `delivered`: every fault it meets is transient and leaves it attempts, so it must land once.
   * `dead-lettered`: faults outlast its attempts, so it must fail with a reason into the dead-letter
   * queue, and land once when redriven after the faults end.
   */
  readonly expect: 'delivered' | 'dead-lettered';
}

export interface SubmittedDelivery extends PlannedDelivery {
  readonly token: string;
  readonly submittedAt: number;
}

/** A destination of a job as `GET /v1/uploads/{token}` shows it. */
export interface DestinationView {
  readonly state: string;
  readonly attempts: number;
  readonly bytes: number | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly finished_at: string | null;
}

export interface JobView {
  readonly token: string;
  readonly state: string;
  readonly destinations: readonly DestinationView[];
}

const finalStates = new Set(['succeeded', 'failed']);

/** Whether every destination of the job has finished. */
export function isFinal(view: JobView | undefined): boolean {
  return view !== undefined && view.destinations.every((destination) => finalStates.has(destination.state));
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Sends a request as a careful client does while the service is under faults: answers it could not
 * give (5xx, 429, a dropped connection) are asked again, the idempotency key making sure a request
 * that did get through is not accepted twice.
 */
async function persistently(what: string, send: () => Promise<Response>): Promise<Response> {
  let last: unknown;
  for (let attempt = 0; attempt < 30; attempt += 1) {
    if (attempt > 0) await sleep(Math.min(4000, 250 * 2 ** attempt));
    try {
      const response = await send();
      if (response.status < 500 && response.status !== 429) return response;
      last = new Error(`${what} answered ${response.status}: ${await response.text()}`);
    } catch (error) {
      last = error;
    }
  }
  throw new Error(`${what} kept failing`, { cause: last });
}

/** Submits a delivery through the API, with its name as the idempotency key; answers its token. */
export async function submit(apiUrl: string, delivery: PlannedDelivery, body: Record<string, unknown>): Promise<SubmittedDelivery> {
  const response = await persistently(`POST for ${delivery.name}`, () =>
    fetch(`${apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `fault-run-${delivery.name}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    }),
  );
  const answer = (await response.json()) as { token?: string };
  if (response.status !== 202 || !answer.token) throw new Error(`POST for ${delivery.name} answered ${response.status}: ${JSON.stringify(answer)}`);
  return { ...delivery, token: answer.token, submittedAt: Date.now() };
}

/** The job as the API shows it. */
export async function jobView(apiUrl: string, token: string): Promise<JobView> {
  const response = await persistently(`GET ${token}`, () => fetch(`${apiUrl}/v1/uploads/${token}`, { signal: AbortSignal.timeout(30_000) }));
  if (response.status !== 200) throw new Error(`GET ${token} answered ${response.status}`);
  return (await response.json()) as JobView;
}

/** Runs `work` over `items`, `limit` at a time. */
export async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next;
        next += 1;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}
