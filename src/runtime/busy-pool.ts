// A pool of database connections on a busy host. pg's Pool hands a waiting query the connection
// given back last, so in a process with nothing else to do, consecutive `pool.query` calls all
// run on one connection, and statements that only work together on one connection (BEGIN, then
// COMMIT in another call; a session lock, then its unlock) seem to. On a host with visitors, other
// requests take the connection a query just gave back, and the next query gets another one. Here
// the pool hands out the connection idle the longest, and opens a second one rather than hand the
// only idle one back at once, as it does when another request has just taken that one: work
// split over pool.query calls meets what it meets on a busy host, every run, on every clock.
import { cloak } from './cloak.ts';

interface PoolInternals {
  _idle: unknown[];
  _pendingQueue: unknown[];
  ending: boolean;
  ended: boolean;
  _isFull(): boolean;
  newClient(pending: unknown): unknown;
  _pulseQueue(): unknown;
}

/** Make the pg the app resolves from the course hand out its pooled connections as a busy host does. */
export function busyPool(courseRequire: NodeJS.Require): void {
  let Pool: { prototype: object } | undefined;
  try {
    Pool = (courseRequire('pg') as { Pool?: { prototype: object } }).Pool;
  } catch {
    return;
  }
  // pg's Pool is pg-pool's, bound to pg's Client: the queue lives on pg-pool's prototype.
  const proto = Pool && (Object.getPrototypeOf(Pool.prototype) as Partial<PoolInternals> | null);
  const original = proto?._pulseQueue;
  if (!proto || typeof original !== 'function') return;
  proto._pulseQueue = cloak(function _pulseQueue(this: PoolInternals) {
    if (!this.ending && !this.ended && this._pendingQueue.length > 0) {
      if (this._idle.length === 1 && !this._isFull()) {
        // The one idle connection is taken by another request at this moment: open another.
        return this.newClient(this._pendingQueue.shift());
      }
      // The connection given back last went to another request; the next waiter gets the one
      // idle the longest (the pool takes the last of its idle list).
      if (this._idle.length > 1) this._idle.push(this._idle.shift());
    }
    return Reflect.apply(original, this, []);
  }, original);
}
