import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { jobListIndex, jobTableKeys } from '../../shared/jobs/table-keys.ts';
import { resourceNames } from '../resources.ts';

/**
 * Creates the job table as the stack defines it (keys and listing index from the shared
 * description), on-demand, and returns once it is ACTIVE: a table still CREATING answers every
 * request ResourceNotFoundException.
 */
export async function createJobTable(dynamo: DynamoDBClient, tableName: string = resourceNames.table): Promise<void> {
  const { partition, sort } = jobTableKeys;
  await dynamo.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: partition, KeyType: 'HASH' },
        { AttributeName: sort, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: partition, AttributeType: 'S' },
        { AttributeName: sort, AttributeType: 'S' },
        { AttributeName: jobListIndex.partition, AttributeType: 'S' },
        { AttributeName: jobListIndex.sort, AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: jobListIndex.name,
          KeySchema: [
            { AttributeName: jobListIndex.partition, KeyType: 'HASH' },
            { AttributeName: jobListIndex.sort, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    }),
  );
  for (let tries = 0; ; tries += 1) {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (tries >= 500) throw new Error(`the job table ${tableName} is still ${Table?.TableStatus ?? 'missing'} after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
