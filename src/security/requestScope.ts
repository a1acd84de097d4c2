// The client address of the request being served, for code far from the HTTP layer (the attempt budget). Every
// verification path calls `attempts.consume(accountKey)`; the per-address limit finds the address here, so no path
// can forget to pass it.
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
