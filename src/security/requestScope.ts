// The request being served, for code far from the HTTP layer that only logs: the unexpected-error log line finds the
// request id here. (Use cases get the client address and ids explicitly, in their RequestFacts.)
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestScope {
  clientAddress: string;
  /** The correlation id of the request: in its log lines and in the metadata of every event it writes. */
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestScope>();

export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}
