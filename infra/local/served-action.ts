/**
 * What a receive that found no message is counted as: the local event sources' long polls of an
 * empty queue are the pollers' own (Lambda's pollers make them too, on any load), not a delivery's.
 */
export const emptyReceive = 'ReceiveMessage (empty)';

/**
 * The action a JSON-protocol request to the embedded SQS or DynamoDB was (`X-Amz-Target`'s
 * operation: `SendMessage`, `UpdateItem`, …), with a `ReceiveMessage` that found nothing told
 * apart by its answer. A request without a target is named by its method.
 */
export function servedAction(method: string | undefined, target: string | string[] | undefined, answer: () => string): string {
  if (typeof target !== 'string') return `${method ?? 'GET'} (no target)`;
  const action = target.split('.').pop() ?? target;
  if (action !== 'ReceiveMessage') return action;
  return receivedSomething(answer()) ? action : emptyReceive;
}

/** True when a ReceiveMessage answer (JSON protocol) holds at least one message. */
function receivedSomething(body: string): boolean {
  try {
    const { Messages } = JSON.parse(body) as { Messages?: unknown };
    return Array.isArray(Messages) && Messages.length > 0;
  } catch {
    return false;
  }
}
