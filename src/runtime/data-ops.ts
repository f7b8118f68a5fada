// In the worker, before the app is imported: wrap the data operations an app makes (the course
// package's better-sqlite3 statements and exec, node:fs reads, writes and renames) so that the
// gate can watch them and hold the worker after one. Always installed, in checks and in `serve`
// alike; with the gate off a wrapper costs one load from shared memory.
//
// Holding is synchronous: the app's code between two operations is synchronous, so the worker
// waits for the course's "go on" right there (gate-channel.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { GateOperation } from './gate-protocol.ts';
import type { Gate } from './gate-channel.ts';

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

  /** Run `fn` as one data operation: reports and holding when the gate is on, nothing more when off. */
  function around<T>(op: () => GateOperation | undefined, fn: () => T, inTransaction: () => boolean): T {
    if (gate.mode() === 0) return fn();
    const operation = op();
    if (!operation) return fn();
    const n = ++seq;
    report({ t: 'entered', seq: n, op: operation });
    let result: T;
    try {
      result = fn();
    } catch (error) {
      report({ t: 'finished', seq: n, op: operation, ask: false, failed: true, inTransaction: safely(inTransaction) });
      throw error;
    }
    after(n, operation, inTransaction);
    return result;
  }

  /** Report an operation done; in hold mode, wait until the course lets it go (or the gate turns off). */
  function after(n: number, operation: GateOperation, inTransaction: () => boolean): void {
    const ask = gate.mode() === 2;
    report({ t: 'finished', seq: n, op: operation, ask, failed: false, inTransaction: safely(inTransaction) });
    if (ask) gate.holdAfter(n);
  }

  /** An asynchronous operation: entered now, finished (and held) when its promise settles. */
  async function aroundAsync<T>(op: () => GateOperation | undefined, fn: () => Promise<T>): Promise<T> {
    if (gate.mode() === 0) return fn();
    const operation = op();
    if (!operation) return fn();
    const n = ++seq;
    report({ t: 'entered', seq: n, op: operation });
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      report({ t: 'finished', seq: n, op: operation, ask: false, failed: true, inTransaction: false });
      throw error;
    }
    after(n, operation, () => false);
    return result;
  }

  // --- files --------------------------------------------------------------------------------
  const isCode = (file: string) =>
    /\.(?:[cm]?[jt]s|node)$/.test(file) || file.includes(`${path.sep}node_modules${path.sep}`) || codeRoots.some((root) => file.startsWith(root + path.sep));
  const fileOp = (target: unknown, write: boolean): GateOperation | undefined => {
    let file: string;
    if (typeof target === 'number') file = `fd ${target}`;
    else if (typeof target === 'string') file = path.resolve(target);
    else if (target instanceof URL) file = target.protocol === 'file:' ? path.resolve(decodeURIComponent(target.pathname)) : String(target);
    else if (Buffer.isBuffer(target)) file = path.resolve(target.toString());
    else return undefined;
    return isCode(file) ? undefined : { kind: 'file', file, write };
  };
  const never = () => false;

  const fsSync = fs as unknown as Record<string, AnyFunction>;
  for (const [name, write, at] of [
    ['readFileSync', false, 0],
    ['writeFileSync', true, 0],
    ['appendFileSync', true, 0],
    ['renameSync', true, 1],
  ] as const) {
    const real = fsSync[name];
    fsSync[name] = function wrapped(this: unknown, ...args: unknown[]) {
      return around(() => fileOp(args[at], write), () => real.apply(this, args), never);
    };
  }
  for (const [name, write, at] of [
    ['readFile', false, 0],
    ['writeFile', true, 0],
    ['appendFile', true, 0],
    ['rename', true, 1],
  ] as const) {
    const real = fsSync[name];
    fsSync[name] = function wrapped(this: unknown, ...args: unknown[]) {
      const callback = args[args.length - 1];
      if (typeof callback !== 'function' || gate.mode() === 0) return real.apply(this, args);
      const operation = fileOp(args[at], write);
      if (!operation) return real.apply(this, args);
      const n = ++seq;
      report({ t: 'entered', seq: n, op: operation });
      args[args.length - 1] = function done(this: unknown, error: unknown, ...rest: unknown[]) {
        if (error) report({ t: 'finished', seq: n, op: operation, ask: false, failed: true, inTransaction: false });
        else after(n, operation, never);
        return (callback as AnyFunction).call(this, error, ...rest);
      };
      return real.apply(this, args);
    };
  }
  const promises = fs.promises as unknown as Record<string, AnyFunction>;
  for (const [name, write, at] of [
    ['readFile', false, 0],
    ['writeFile', true, 0],
    ['appendFile', true, 0],
    ['rename', true, 1],
  ] as const) {
    const real = promises[name];
    promises[name] = function wrapped(this: unknown, ...args: unknown[]) {
      return aroundAsync(() => fileOp(args[at], write), () => real.apply(this, args) as Promise<unknown>);
    };
  }

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
    Statement[name] = function wrapped(this: unknown, ...args: unknown[]) {
      const stmt = this as Stmt;
      return around(() => statementOp(stmt), () => real.apply(this, args), statementInTransaction(stmt));
    };
  }
  // iterate(): the rows are read as the iterator is stepped, so the operation ends when it is done.
  const realIterate = Statement.iterate;
  Statement.iterate = function iterate(this: unknown, ...args: unknown[]) {
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
  };
  const proto = (Database as { prototype: Record<string, AnyFunction> }).prototype;
  const realExec = proto.exec;
  proto.exec = function exec(this: unknown, ...args: unknown[]) {
    const db = this as { inTransaction: boolean };
    const sql = String(args[0]);
    return around(
      () => ({ kind: 'sql', sql, write: !/^\s*(?:select|begin|commit|end|rollback|savepoint|release)\b/i.test(sql) }),
      () => realExec.apply(this, args),
      () => db.inTransaction,
    );
  };
}

function safely(read: () => boolean): boolean {
  try {
    return read();
  } catch {
    return false;
  }
}
