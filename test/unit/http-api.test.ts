import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { IngressDependencies } from '../../functions/ingress/dependencies.ts';
import { handleHttp } from '../../functions/ingress/http-api.ts';
import { createLogger } from '../../shared/lambda/logger.ts';

/** Dependencies that fail the test when touched: these requests must be answered at the door. */
const untouchable = new Proxy({ log: createLogger('test') } as IngressDependencies, {
  get: (target, name) => {
    if (name in target) return target[name as keyof IngressDependencies];
    throw new Error(`the door reached ${String(name)}`);
  },
});

function event(method: string, path: string, headers: Record<string, string> = {}, body?: string): APIGatewayProxyEvent {
  return { httpMethod: method, path, headers, body: body ?? null, isBase64Encoded: false, queryStringParameters: null } as unknown as APIGatewayProxyEvent;
}

describe('HTTP API: bad input answered at the door', () => {
  it.each(['/v1/uploads/%E0%A4%A', '/v1/uploads/ud_abc%23frag', '/v1/uploads/' + 'x'.repeat(300), '/v1/uploads/ud abc'])(
    'answers 404, not 503, for GET %s',
    async (path) => {
      const answer = await handleHttp(event('GET', path), untouchable);

      expect(answer.statusCode).toBe(404);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'not_found' });
    },
  );

  it.each([['a 5000-character key', 'k'.repeat(5000)], ['a key with a space', 'render 42'], ['a key beyond ASCII', 'rénder-42']])(
    'answers 400 naming Idempotency-Key for %s',
    async (_case, key) => {
      const answer = await handleHttp(event('POST', '/v1/uploads', { 'Idempotency-Key': key }, '{}'), untouchable);

      expect(answer.statusCode).toBe(400);
      expect(JSON.parse(answer.body).errors).toEqual([expect.objectContaining({ path: 'Idempotency-Key' })]);
    },
  );
});
