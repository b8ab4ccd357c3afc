import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import type { AddressInfo } from 'node:net';
import { createJobTable } from '../../../infra/local/job-table.ts';

/** Where the job table and the queues listen, and how to stop both. */
export interface JobsAndQueues {
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  close(): Promise<void>;
}

/**
 * dynalite with the job table `tableName` made, and fauxqs, on loopback: what the ingress and the
 * delivery runner write to.
 */
export async function startJobsAndQueues(tableName: string, client: { region: string; credentials: { accessKeyId: string; secretAccessKey: string } }): Promise<JobsAndQueues> {
  const dynamoServer = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynamoServer.listen(0, '127.0.0.1', resolve));
  const dynamoEndpoint = `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`;
  await createJobTable(new DynamoDBClient({ ...client, endpoint: dynamoEndpoint }), tableName);
  const sqsServer = buildApp({ logger: false });
  await sqsServer.listen({ port: 0, host: '127.0.0.1' });
  const sqsEndpoint = `http://127.0.0.1:${(sqsServer.server.address() as AddressInfo).port}`;
  return {
    dynamoEndpoint,
    sqsEndpoint,
    close: async () => {
      await sqsServer.close();
      await new Promise((resolve) => dynamoServer.close(resolve));
    },
  };
}
