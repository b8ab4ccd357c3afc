import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AwsJsonClient } from '../net/aws-json-client.ts';

/** An item (or a key) as JavaScript values. */
export type Item = Record<string, unknown>;
type Marshalled = Record<string, AttributeValue>;

/** The expressions of a conditional write or a query, their values as JavaScript values. */
export interface Expressions {
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ExpressionAttributeValues?: Item;
}

export interface UpdateInput extends Expressions {
  readonly UpdateExpression: string;
  readonly ReturnValues?: 'NONE' | 'ALL_NEW';
}

export interface QueryInput extends Expressions {
  readonly KeyConditionExpression: string;
  readonly IndexName?: string;
  readonly FilterExpression?: string;
  readonly ScanIndexForward?: boolean;
  readonly Limit?: number;
  readonly Select?: 'COUNT';
  readonly ConsistentRead?: boolean;
  readonly ExclusiveStartKey?: Item;
}

export interface QueryPage {
  readonly items: Item[];
  readonly count: number;
  readonly lastKey: Item | undefined;
}

const toAttributes = (item: Item): Marshalled => marshall(item, { removeUndefinedValues: true });
const fromAttributes = (attributes: Marshalled): Item => unmarshall(attributes);

/** DynamoDB's expressions with their values in its typed form. */
function marshalledExpressions({ ExpressionAttributeValues, ...rest }: Expressions): object {
  return { ...rest, ...(ExpressionAttributeValues ? { ExpressionAttributeValues: toAttributes(ExpressionAttributeValues) } : {}) };
}

/**
 * One DynamoDB table's items as JavaScript values, what the SDK's DocumentClient did for the job
 * store: each call marshals what it sends and unmarshals what comes back (undefined values left
 * out, numbers as numbers), over {@link AwsJsonClient}.
 */
export class DocumentTable {
  public constructor(
    private readonly dynamodb: AwsJsonClient,
    public readonly name: string,
  ) {}

  public async put(item: Item, expressions: Expressions = {}): Promise<void> {
    await this.dynamodb.call('PutItem', { TableName: this.name, Item: toAttributes(item), ...marshalledExpressions(expressions) });
  }

  /** The item of `key`, read consistently; undefined when there is none. */
  public async get(key: Item): Promise<Item | undefined> {
    const { Item: found } = await this.dynamodb.call<{ Item?: Marshalled }>('GetItem', { TableName: this.name, Key: toAttributes(key), ConsistentRead: true });
    return found ? fromAttributes(found) : undefined;
  }

  /** Updates the item of `key`; with `ReturnValues: 'ALL_NEW'` answers the item as written. */
  public async update(key: Item, input: UpdateInput): Promise<Item | undefined> {
    const { Attributes } = await this.dynamodb.call<{ Attributes?: Marshalled }>('UpdateItem', {
      TableName: this.name,
      Key: toAttributes(key),
      ...marshalledExpressions(input),
    });
    return Attributes ? fromAttributes(Attributes) : undefined;
  }

  public async delete(key: Item): Promise<void> {
    await this.dynamodb.call('DeleteItem', { TableName: this.name, Key: toAttributes(key) });
  }

  /** One page of a query. */
  public async query({ ExclusiveStartKey, ...input }: QueryInput): Promise<QueryPage> {
    const answer = await this.dynamodb.call<{ Items?: Marshalled[]; Count?: number; LastEvaluatedKey?: Marshalled }>('Query', {
      TableName: this.name,
      ...marshalledExpressions(input),
      ...(ExclusiveStartKey ? { ExclusiveStartKey: toAttributes(ExclusiveStartKey) } : {}),
    });
    return {
      items: (answer.Items ?? []).map(fromAttributes),
      count: answer.Count ?? 0,
      lastKey: answer.LastEvaluatedKey ? fromAttributes(answer.LastEvaluatedKey) : undefined,
    };
  }

  /** Puts up to 25 items; answers those DynamoDB left unprocessed (to send again). */
  public async batchPut(items: readonly Item[]): Promise<Item[]> {
    const answer = await this.dynamodb.call<{ UnprocessedItems?: Record<string, { PutRequest?: { Item: Marshalled } }[]> }>('BatchWriteItem', {
      RequestItems: { [this.name]: items.map((item) => ({ PutRequest: { Item: toAttributes(item) } })) },
    });
    return (answer.UnprocessedItems?.[this.name] ?? []).flatMap((request) => (request.PutRequest ? [fromAttributes(request.PutRequest.Item)] : []));
  }

  /** Reads up to 100 keys consistently; answers the items found and the keys DynamoDB left unprocessed (to ask again). */
  public async batchGet(keys: readonly Item[]): Promise<{ items: Item[]; unprocessed: Item[] }> {
    const answer = await this.dynamodb.call<{ Responses?: Record<string, Marshalled[]>; UnprocessedKeys?: Record<string, { Keys?: Marshalled[] }> }>('BatchGetItem', {
      RequestItems: { [this.name]: { Keys: keys.map(toAttributes), ConsistentRead: true } },
    });
    return {
      items: (answer.Responses?.[this.name] ?? []).map(fromAttributes),
      unprocessed: (answer.UnprocessedKeys?.[this.name]?.Keys ?? []).map(fromAttributes),
    };
  }
}
