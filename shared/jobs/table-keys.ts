/**
 * The job table's key attributes: a job's token (partition), `job` or `destination#NNN` (sort),
 * and the TTL attribute. The store writes them; the stack and the local runtime create the table
 * with them.
 */
export const jobTableKeys = { partition: 'token', sort: 'item', expiry: 'expiresAt' } as const;
