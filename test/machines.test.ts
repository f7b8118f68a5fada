// Each simulated machine has a disk of its own: its own seeded folder and the environment that
// points at it. Only what lives off the machines (the database server) is shared.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { seedRun } from '../src/check/scratch.ts';
import { PIN_HEADER } from '../src/runtime/dispatcher.ts';
import { Host } from '../src/runtime/host.ts';
import { databaseServer } from '../src/runtime/postgres.ts';
import lesson8 from '../src/lessons/08-the-job-that-runs-three-times/lesson.ts';
import { flaskAvailability } from './helpers/flask.ts';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'runtime', 'disk.js');
const LIMIT = { timeout: 90_000 };
const pythonFixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'flask', 'runtime', 'disk.py');
const { skip: noFlask } = await flaskAvailability();

describe('a disk per machine', () => {
  after(() => databaseServer.stop());

  test("the host starts a new machine's workers on that machine's disk, with the shared settings", LIMIT, async () => {
    // Given a host whose second machine has a folder of its own
    const folders = [1, 2].map(() => realpathSync(mkdtempSync(path.join(os.tmpdir(), 'gsc-disk-'))));
    const host = new Host({
      appFile: fixture,
      workers: 2,
      cwd: folders[0]!,
      env: { APP_DATA: 'machine 1 data', SHARED: 'postgres://shared' },
      machineDisk: (machine) => ({ cwd: folders[machine - 1]!, env: { APP_DATA: `machine ${machine} data` } }),
    });
    try {
      await host.start();
      // When it scales out to two machines
      await host.setMachines(2);
      // Then workers 1-2 run on the first disk, 3-4 on the second, and all see the shared address
      const seen = [];
      for (let k = 1; k <= host.workerCount; k++) {
        const response = await fetch(host.url, { headers: { [PIN_HEADER]: String(k) } });
        seen.push((await response.json()) as { data: string; cwd: string; shared: string; hostname: string });
      }
      assert.deepEqual(seen.map((s) => s.data), ['machine 1 data', 'machine 1 data', 'machine 2 data', 'machine 2 data']);
      assert.deepEqual(seen.map((s) => s.cwd), [folders[0], folders[0], folders[1], folders[1]]);
      assert.ok(seen.every((s) => s.shared === 'postgres://shared'));
      // And each machine has a name of its own, as os.hostname() tells it
      assert.equal(seen[0]!.hostname, seen[1]!.hostname);
      assert.equal(seen[2]!.hostname, seen[3]!.hostname);
      assert.notEqual(seen[0]!.hostname, seen[2]!.hostname);
      assert.notEqual(seen[2]!.hostname, os.hostname());
    } finally {
      await host.stop();
      for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    }
  });

  for (const [track, appFile, skip] of [['Node', fixture, false], ['Python', pythonFixture, noFlask]] as const) {
    test(`a second machine's date can run behind the first's, and stays behind as the clock moves (${track})`, { ...LIMIT, skip }, async () => {
      // Given a host on a manual clock, scaled out to a second machine whose clock is a minute behind
      const host = new Host({ appFile, workers: 1, cwd: os.tmpdir(), clock: 'manual', load: 'lazy' });
      try {
        await host.start();
        await host.setMachines(2, { clockBehindMs: 60_000 });
        const apart = async () => ((await host.clockState(1))?.now ?? NaN) - ((await host.clockState(2))?.now ?? NaN);
        // Then the second machine's worker reads a date a minute earlier than the first's
        assert.ok(Math.abs((await apart()) - 60_000) < 2_000, `apart by ${await apart()} ms`);
        // And moving the clock moves both alike
        await host.advanceClock(3_600_000);
        assert.ok(Math.abs((await apart()) - 60_000) < 2_000, `apart by ${await apart()} ms`);
      } finally {
        await host.stop();
      }
    });
  }

  test("a run's second machine gets its own seeded SQLite file; the PostgreSQL database is one, and goes with the run", LIMIT, async () => {
    // Given lesson 8's run data
    const run = await seedRun(lesson8, 7);
    const second = run.machineDisk(2);
    // Then machine 2's SQLite file is another file, seeded the same way, and the database is shared
    assert.notEqual(second.env.SHOP_DB, run.env.SHOP_DB);
    assert.notEqual(second.cwd, run.dir);
    assert.equal(second.env.DATABASE_URL, undefined, "the database's address comes from the run, not from the machine");
    assert.equal(run.machineDisk(2), second, 'a machine keeps its disk');
    // And each machine has a temp folder of its own, on its disk (a lock file there is a lock on that machine only)
    assert.ok(second.env.TMPDIR?.startsWith(second.cwd + path.sep), `machine 2's TMPDIR (${second.env.TMPDIR}) is on its disk`);
    assert.ok(run.env.TMPDIR?.startsWith(run.dir + path.sep), `machine 1's TMPDIR (${run.env.TMPDIR}) is on its disk`);
    assert.ok(existsSync(second.env.TMPDIR!) && existsSync(run.env.TMPDIR!));
    const tables = (file: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      } finally {
        db.close();
      }
    };
    assert.deepEqual(tables(second.env.SHOP_DB!), tables(run.env.SHOP_DB!));
    const client = new pg.Client(run.env.DATABASE_URL);
    await client.connect();
    assert.equal((await client.query('SELECT count(*)::int AS n FROM subscribers')).rows[0].n, 3);
    await client.end();
    // And removing the run removes both disks and drops its database
    await run.remove();
    assert.equal(existsSync(run.dir), false);
    assert.equal(existsSync(second.cwd), false);
    const late = new pg.Client(run.env.DATABASE_URL);
    await assert.rejects(late.connect(), /does not exist/);
  });
  for (const load of ['preload', 'lazy'] as const) {
    test(`Python workers (${load}) live on their machine: its disk, its temp folder, its name, from the app's import on`, { ...LIMIT, skip: noFlask }, async () => {
      // Given a Flask app on a host whose second machine has a folder and a temp folder of its own
      const folders = [1, 2].map(() => realpathSync(mkdtempSync(path.join(os.tmpdir(), 'gsc-disk-'))));
      const tmp = path.join(folders[1]!, 'tmp');
      mkdirSync(tmp);
      const host = new Host({
        appFile: pythonFixture,
        workers: 2,
        load,
        cwd: folders[0]!,
        env: { APP_DATA: 'machine 1 data', SHARED: 'postgres://shared' },
        machineDisk: (machine) => ({ cwd: folders[machine - 1]!, env: { APP_DATA: `machine ${machine} data`, ...(machine > 1 ? { TMPDIR: tmp } : {}) } }),
      });
      try {
        await host.start();
        // When it scales out to two machines
        await host.setMachines(2);
        const seen = [];
        for (let k = 1; k <= host.workerCount; k++) {
          const response = await fetch(host.url, { headers: { [PIN_HEADER]: String(k) } });
          seen.push((await response.json()) as { atImport: { data: string; hostname: string; cwd: string }; data: string; cwd: string; hostname: string; names: string[]; tmp: string });
        }
        // Then machine 2's workers see its data and folder, at import too (its own load), and its temp folder
        assert.deepEqual(seen.map((s) => s.data), ['machine 1 data', 'machine 1 data', 'machine 2 data', 'machine 2 data']);
        assert.deepEqual(seen.map((s) => s.atImport.data), ['machine 1 data', 'machine 1 data', 'machine 2 data', 'machine 2 data']);
        assert.deepEqual(seen.map((s) => s.cwd), [folders[0], folders[0], folders[1], folders[1]]);
        assert.equal(seen[2]!.tmp, tmp);
        assert.notEqual(seen[0]!.tmp, tmp);
        // And each machine has one name, however Python asks for it, from the import on
        for (const s of seen) assert.deepEqual(s.names, [s.hostname]);
        assert.deepEqual(seen.map((s) => s.atImport.hostname), seen.map((s) => s.hostname));
        assert.equal(seen[0]!.hostname, seen[1]!.hostname);
        assert.equal(seen[2]!.hostname, seen[3]!.hostname);
        assert.notEqual(seen[0]!.hostname, seen[2]!.hostname);
      } finally {
        await host.stop();
        for (const folder of folders) rmSync(folder, { recursive: true, force: true });
      }
    });
  }
});
