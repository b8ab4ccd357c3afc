/**
 * Largest request body the API takes. A request is a small JSON document; 64 KiB is also the most
 * that AWS WAF inspects in front of API Gateway, which enforces the same limit in the stack.
 */
export const maxRequestBodyBytes = 64 * 1024;
