import type { WorkerTask } from './worker-io.ts';

/** What an Azure Blob worker is told, through the same JSON argument as the S3 workers. */
export interface AzureWorkerTask {
  /** The Blob service URL (`http://127.0.0.1:PORT/devstoreaccount1`). */
  readonly endpoint: string;
  readonly account: string;
  readonly accountKey: string;
  readonly container: string;
  readonly blob: string;
  readonly size: number;
}

/** The task as an Azure worker reads it (`runWorker` hands every worker its JSON argument). */
export function azureTask(task: WorkerTask): AzureWorkerTask {
  return task as unknown as AzureWorkerTask;
}
