// In the worker, before the app is imported: wrap the data operations an app makes (the course
// package's better-sqlite3 statements and exec, node:sqlite's, and node:fs calls, in
// data-ops-files.ts) so that the gate can watch them and hold the worker after one. Always
// installed, in checks and in `serve` alike; with the gate off a wrapper costs one load from
// shared memory.
//
// Holding a synchronous operation is synchronous: the app's code between two operations is
// synchronous, so the worker waits for the course's "go on" right there (gate-channel.ts). An
// asynchronous one (fs/promises, a FileHandle's methods, fs with a callback) is held without
// blocking: its promise settles (its callback is called) once the go arrives, and meanwhile the
// worker serves other requests, as a real Node worker does while a request awaits.
import { cloak } from './cloak.ts';
import type { GateOperation } from './gate-protocol.ts';
import type { Gate } from './gate-channel.ts';
import { installNodeSqlite } from './data-ops-node-sqlite.ts';
import { installFileOperations } from './data-ops-files.ts';

interface Options {
  /** The worker's end of its gate. */
  readonly gate: Gate;
  /** The course package's better-sqlite3 Database class, when it loaded. */
  readonly Database?: unknown;
  /** Files under these folders (the course package, any node_modules) are code, not data. */
  readonly codeRoots: readonly string[];
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

export function installDataOperations({ gate, Database, codeRoots }: Options): void {
  let seq = 0;
  const report = gate.report;

  /** Synchronous operations under way: one made inside another (readFileSync's own openSync) is part of it. */
  let depth = 0;

  /** Run `fn` as one data operation: reports and holding when the gate is on, nothing more when off. */
  function around<T>(op: () => GateOperation | undefined, fn: () => T, inTransaction: () => boolean): T {
    if (gate.mode() === 0 || depth > 0) return fn();
    const operation = op();
    if (!operation) return fn();
    const n = ++seq;
    enter(n, operation, inTransaction);
    let result: T;
    depth++;
    try {
      result = fn();
    } catch (error) {
      depth--;
      report({ t: 'finished', seq: n, op: operation, ask: false, failed: true, inTransaction: safely(inTransaction) });
      throw error;
    }
    depth--;
    after(n, operation, inTransaction);
    return result;
  }

  /** Report an operation begun; in hold mode, a write waits until the course lets it begin. */
  function enter(n: number, operation: GateOperation, inTransaction: () => boolean): void {
    if (gate.mode() === 2 && operation.write) {
      report({ t: 'entered', seq: n, op: operation, ask: true, inTransaction: safely(inTransaction) });
      gate.holdBefore(n);
    } else report({ t: 'entered', seq: n, op: operation });
  }

  /** Report an operation done; in hold mode, wait until the course lets it go (or the gate turns off). */
  function after(n: number, operation: GateOperation, inTransaction: () => boolean): void {
    const ask = gate.mode() === 2;
    report({ t: 'finished', seq: n, op: operation, ask, failed: false, inTransaction: safely(inTransaction) });
    if (ask) gate.holdAfter(n);
  }

  /** Report an asynchronous operation begun; in hold mode, a write begins once the course lets it (the thread stays free). */
  function enterAsync(n: number, operation: GateOperation): Promise<void> | undefined {
    if (gate.mode() === 2 && operation.write) {
      report({ t: 'entered', seq: n, op: operation, ask: true, inTransaction: false, async: true });
      return gate.waitBefore(n);
    }
    report({ t: 'entered', seq: n, op: operation, async: true });
    return undefined;
  }

  /** Report an asynchronous operation done; in hold mode, its result waits for the course's go (the thread stays free). */
  function afterAsync(n: number, operation: GateOperation): Promise<void> | undefined {
    const ask = gate.mode() === 2;
    report({ t: 'finished', seq: n, op: operation, ask, failed: false, inTransaction: false, async: true });
    return ask ? gate.waitAfter(n) : undefined;
  }

  const failedAsync = (n: number, operation: GateOperation) =>
    report({ t: 'finished', seq: n, op: operation, ask: false, failed: true, inTransaction: false, async: true });

  /** An asynchronous operation: entered now, finished (and held) when its promise settles. */
  async function aroundAsync<T>(op: () => GateOperation | undefined, fn: () => Promise<T>): Promise<T> {
    if (gate.mode() === 0) return fn();
    const operation = op();
    if (!operation) return fn();
    const n = ++seq;
    const begun = enterAsync(n, operation);
    let result: T;
    try {
      if (begun) await begun;
      result = await fn();
    } catch (error) {
      failedAsync(n, operation);
      throw error;
    }
    const held = afterAsync(n, operation);
    if (held) await held;
    return result;
  }

  installFileOperations({ gate, codeRoots, around, aroundAsync, enterAsync, afterAsync, failedAsync, nextSeq: () => ++seq });
  installNodeSqlite(around);

  // --- SQLite (the course package's better-sqlite3) -------------------------------------------
  if (typeof Database !== 'function') return;
  const DatabaseClass = Database as new (file: string) => { prepare(sql: string): object; close(): void };
  const probe = new DatabaseClass(':memory:');
  const Statement = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, AnyFunction>;
  probe.close();
  type Stmt = { source: string; readonly: boolean; database: { inTransaction: boolean } };
  const statementOp = (stmt: Stmt): GateOperation => ({ kind: 'sql', sql: stmt.source, write: !stmt.readonly });
  const statementInTransaction = (stmt: Stmt) => () => stmt.database.inTransaction;
  for (const name of ['run', 'get', 'all'] as const) {
    const real = Statement[name];
    Statement[name] = cloak(function wrapped(this: unknown, ...args: unknown[]) {
      const stmt = this as Stmt;
      return around(() => statementOp(stmt), () => real.apply(this, args), statementInTransaction(stmt));
    }, real);
  }
  // iterate(): the rows are read as the iterator is stepped, so the operation ends when it is done.
  const realIterate = Statement.iterate;
  Statement.iterate = cloak(function iterate(this: unknown, ...args: unknown[]) {
    const iterator = realIterate.apply(this, args) as IterableIterator<unknown>;
    if (gate.mode() === 0) return iterator;
    const stmt = this as Stmt;
    const operation = statementOp(stmt);
    const n = ++seq;
    report({ t: 'entered', seq: n, op: operation });
    let open = true;
    const finish = () => {
      if (!open) return;
      open = false;
      after(n, operation, statementInTransaction(stmt));
    };
    const wrapped: IterableIterator<unknown> = {
      next(...a: [] | [unknown]) {
        const step = iterator.next(...a);
        if (step.done) finish();
        return step;
      },
      return(value?: unknown) {
        const step = iterator.return ? iterator.return(value) : { done: true as const, value };
        finish();
        return step;
      },
      [Symbol.iterator]() {
        return wrapped;
      },
    };
    return wrapped;
  }, realIterate);
  const proto = (Database as { prototype: Record<string, AnyFunction> }).prototype;
  const realExec = proto.exec;
  proto.exec = cloak(function exec(this: unknown, ...args: unknown[]) {
    const db = this as { inTransaction: boolean };
    const sql = String(args[0]);
    return around(
      () => ({ kind: 'sql', sql, write: !/^\s*(?:select|begin|commit|end|rollback|savepoint|release)\b/i.test(sql) }),
      () => realExec.apply(this, args),
      () => db.inTransaction,
    );
  }, realExec);
}

function safely(read: () => boolean): boolean {
  try {
    return read();
  } catch {
    return false;
  }
}
