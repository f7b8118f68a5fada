// A manual clock over an app that awaits PostgreSQL between its timers: moving the clock runs
// the same work as the same time on a real clock would, however long the answers take.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import FakeTimers from '@sinonjs/fake-timers';
import { trackDatabaseIo } from '../src/runtime/clock-io.ts';
import { DatabaseServer } from '../src/runtime/postgres.ts';

const server = new DatabaseServer();
after(() => server.stop());

test('a job that awaits queries (and a fresh connection) between two timers finishes within the time the clock moved', { timeout: 90_000 }, async () => {
  // Given an app on a manual clock whose pool's idle connection is closed before the job runs
  const database = await server.createDatabase();
  const require = createRequire(import.meta.url);
  const clock = FakeTimers.install({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  try {
    const io = trackDatabaseIo(require);
    assert.ok(io);
    const pg = require('pg') as typeof import('pg');
    const pool = new pg.Pool({ connectionString: database.url, idleTimeoutMillis: 10_000 });
    // An idle client ended by the database's drop below must not hide what this test found.
    pool.on('error', () => {});
    await pool.query('SELECT 1');
    const steps: string[] = [];
    setTimeout(async () => {
      const client = await pool.connect();
      const { rows } = await client.query<{ x: number }>('SELECT pg_sleep(0.2), 2 AS x');
      client.release();
      steps.push(`answer ${rows[0]?.x} at ${Date.now()}`);
      setTimeout(async () => {
        await pool.query('SELECT 3');
        steps.push(`second timer at ${Date.now()}`);
      }, 250);
    }, 30_000);
    // When the clock moves past both timers at once
    await io.advance(clock as never, 35_000);
    // Then both ran, at their own times, and the clock stands where it was moved to
    assert.deepEqual(steps, ['answer 2 at 30000', 'second timer at 30250']);
    assert.equal(Date.now(), 35_000);
    await pool.end();
  } finally {
    clock.uninstall();
    await database.drop();
  }
});
