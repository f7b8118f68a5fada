// Node's own SQLite (node:sqlite), watched as data operations the way better-sqlite3 is
// (data-ops.ts): each statement and exec, with whether it writes and runs in a transaction.
import { createRequire } from 'node:module';
import { cloak } from './cloak.ts';
import type { GateOperation } from './gate-protocol.ts';

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

export type Around = <T>(op: () => GateOperation | undefined, fn: () => T, inTransaction: () => boolean) => T;

/** Node's own SQLite (node:sqlite): its statements and exec, watched as better-sqlite3's are. */
export function installNodeSqlite(around: Around): void {
  let sqlite: { DatabaseSync: { prototype: Record<string, AnyFunction> }; StatementSync: { prototype: Record<string, AnyFunction> } };
  try {
    sqlite = createRequire(import.meta.url)('node:sqlite') as typeof sqlite;
  } catch {
    return;
  }
  const sources = new WeakMap<object, { sql: string; db: { isTransaction?: boolean } }>();
  const Db = sqlite.DatabaseSync.prototype;
  const realPrepare = Db.prepare;
  Db.prepare = cloak(function prepare(this: unknown, ...args: unknown[]) {
    const statement = realPrepare.apply(this, args) as object;
    sources.set(statement, { sql: String(args[0]), db: this as { isTransaction?: boolean } });
    return statement;
  }, realPrepare);
  const isWrite = (sql: string) => !/^\s*(?:select|with\b[\s\S]*\bselect\b(?![\s\S]*\b(?:insert|update|delete)\b)|begin|commit|end|rollback|savepoint|release|pragma|explain)\b/i.test(sql);
  const Statement = sqlite.StatementSync.prototype;
  for (const name of ['run', 'get', 'all', 'iterate'] as const) {
    const real = Statement[name];
    if (typeof real !== 'function') continue;
    Statement[name] = cloak(function wrapped(this: unknown, ...args: unknown[]) {
      const source = sources.get(this as object);
      return around(
        () => (source ? { kind: 'sql', sql: source.sql, write: isWrite(source.sql) } : undefined),
        () => real.apply(this, args),
        () => Boolean(source?.db.isTransaction),
      );
    }, real);
  }
  const realExec = Db.exec;
  Db.exec = cloak(function exec(this: unknown, ...args: unknown[]) {
    const sql = String(args[0]);
    const db = this as { isTransaction?: boolean };
    return around(() => ({ kind: 'sql', sql, write: isWrite(sql) }), () => realExec.apply(this, args), () => Boolean(db.isTransaction));
  }, realExec);
}
