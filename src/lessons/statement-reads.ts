// Which tables and columns an SQL statement of the app reads, as SQLite itself plans it: a race
// holds a worker "just after it read the products" whatever the statement names (the table, a
// view over it, a common table expression, an alias), because SQLite's plan opens the table's own
// pages. Used by the lessons whose races pick a hold point by what was read.
import Database from 'better-sqlite3';

/** Each table the statement reads, with the columns it reads of it (by name). */
export type Reads = ReadonlyMap<string, ReadonlySet<string>>;

const known = new Map<string, Reads | null>();
/** Plans kept at most (each run's database is a file of its own: a long course session meets many). */
const KEEP = 500;

/**
 * What `sql` reads in the database `dbFile`, or undefined when this SQLite cannot plan it (a
 * table the app made in another file, a syntax of a newer SQLite). Cached per statement.
 */
export function statementReads(dbFile: string, sql: string): Reads | undefined {
  const key = `${dbFile}\0${sql}`;
  if (!known.has(key)) {
    if (known.size >= KEEP) known.clear();
    known.set(key, plan(dbFile, sql));
  }
  return known.get(key) ?? undefined;
}

/** Whether `sql` reads `table` (and, given, one of `columns`); `fallback` when SQLite cannot plan it. */
export function reads(dbFile: string, sql: string, table: string, columns?: readonly string[], fallback = false): boolean {
  const found = statementReads(dbFile, sql);
  if (!found) return fallback;
  const read = found.get(table.toLowerCase());
  if (!read) return false;
  return columns === undefined || columns.some((column) => read.has(column.toLowerCase()));
}

interface Step {
  readonly opcode: string;
  readonly p1: number;
  readonly p2: number;
}

function plan(dbFile: string, sql: string): Reads | null {
  let db: Database.Database | undefined;
  try {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
    const schema = db.prepare("SELECT type, name, tbl_name AS tableName, rootpage FROM sqlite_schema WHERE type IN ('table', 'index') AND rootpage > 0").all() as Array<{
      type: string;
      name: string;
      tableName: string;
      rootpage: number;
    }>;
    const byRoot = new Map(schema.map((entry) => [entry.rootpage, entry]));
    const columns = new Map<string, string[]>();
    const columnsOf = (entry: (typeof schema)[number]): string[] => {
      const pragma = entry.type === 'table' ? 'table_info' : 'index_info';
      if (!columns.has(entry.name)) {
        columns.set(entry.name, (db!.prepare(`SELECT name FROM pragma_${pragma}(?)`).all(entry.name) as Array<{ name: string | null }>).map((c) => String(c.name ?? '').toLowerCase()));
      }
      return columns.get(entry.name)!;
    };
    const steps = db.prepare(`EXPLAIN ${withoutParameters(sql)}`).all() as Step[];
    const cursors = new Map<number, (typeof schema)[number]>();
    const found = new Map<string, Set<string>>();
    for (const step of steps) {
      if (step.opcode === 'OpenRead' || step.opcode === 'ReopenIdx') {
        const entry = byRoot.get(step.p2);
        if (!entry) continue;
        cursors.set(step.p1, entry);
        if (!found.has(entry.tableName.toLowerCase())) found.set(entry.tableName.toLowerCase(), new Set());
      } else if (step.opcode === 'Column') {
        const entry = cursors.get(step.p1);
        if (!entry) continue;
        const name = columnsOf(entry)[step.p2];
        if (name) found.get(entry.tableName.toLowerCase())!.add(name);
      }
    }
    return found;
  } catch {
    return null;
  } finally {
    db?.close();
  }
}

/**
 * The statement with each parameter (?, ?NNN, :name, @name, $name) made NULL, so that SQLite
 * plans it without values; quoted strings, quoted names and comments are left as they are.
 */
export function withoutParameters(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; ) {
    const c = sql[i]!;
    const close = c === "'" ? "'" : c === '"' ? '"' : c === '`' ? '`' : c === '[' ? ']' : undefined;
    if (close) {
      let j = i + 1;
      while (j < sql.length && sql[j] !== close) j++;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      out += end < 0 ? sql.slice(i) : sql.slice(i, end);
      i = end < 0 ? sql.length : end;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      out += end < 0 ? sql.slice(i) : sql.slice(i, end + 2);
      i = end < 0 ? sql.length : end + 2;
    } else {
      const parameter = /^(?:\?\d*|[:@$][A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i));
      if (parameter && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
        out += 'NULL';
        i += parameter[0].length;
      } else {
        out += c;
        i++;
      }
    }
  }
  return out;
}
