// Forced races on the Python host: its workers have the same gate as Node's (their sqlite3
// operations and data file reads and writes watched, and held after one), so race() forces the same interleaving every run.
// Skipped (saying so) without Flask.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Host } from '../src/runtime/host.ts';
import { PIN_HEADER } from '../src/runtime/dispatcher.ts';
import { race, type RaceSide } from '../src/check/race.ts';
import type { GateListener } from '../src/runtime/gate.ts';
import { flaskAvailability } from './helpers/flask.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const appFile = path.join(here, 'fixtures', 'flask', 'runtime', 'race-counter.py');
const RUNS = 8;
const { skip } = await flaskAvailability();

interface Answer {
  status: number;
  value: number;
}

let dir: string;
let host: Host;
let db: Database.Database;

function side(worker: number, route: string): RaceSide<Answer> {
  return {
    worker,
    async send() {
      const response = await fetch(host.url + route, { headers: { [PIN_HEADER]: String(worker) } });
      const body = (await response.json()) as { value: number };
      return { status: response.status, value: body.value };
    },
  };
}

const counter = () => db.prepare('SELECT n FROM counter WHERE id = 1').pluck().get() as number;
const jsonFile = () => path.join(dir, 'race.json');

async function raceMany(route: string) {
  const outcomes = [];
  for (let i = 0; i < RUNS; i++) {
    db.prepare('UPDATE counter SET n = 0 WHERE id = 1').run();
    writeFileSync(jsonFile(), JSON.stringify({ n: 0 }));
    for (const file of readdirSync(dir)) if (file.startsWith('race.json.shelf')) rmSync(path.join(dir, file));
    const [first, second] = await race(host, side(1, route), side(2, route));
    outcomes.push([first.value, second.value, route.startsWith('/json') ? (JSON.parse(readFileSync(jsonFile(), 'utf8')) as { n: number }).n : counter()]);
  }
  return outcomes;
}

describe('race() on Python workers: one interleaving, every run', { skip }, () => {
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'py-race-'));
    const dbFile = path.join(dir, 'race.db');
    db = new Database(dbFile);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0);');
    writeFileSync(path.join(dir, 'race.json'), JSON.stringify({ n: 0 }));
    host = new Host({ appFile, workers: 2, cwd: dir, env: { RACE_DB: dbFile, RACE_JSON: path.join(dir, 'race.json') } });
    await host.start();
  });

  after(async () => {
    await host?.stop();
    db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(`a read-then-write without a transaction loses an update, ${RUNS} runs of ${RUNS}`, async () => {
    assert.deepEqual(await raceMany('/read-then-write'), Array(RUNS).fill([1, 1, 1]));
  });

  test(`the same after BEGIN IMMEDIATE never loses one and does not deadlock, ${RUNS} runs of ${RUNS}`, async () => {
    assert.deepEqual(await raceMany('/immediate'), Array(RUNS).fill([1, 2, 2]));
  });

  test(`a JSON file read, changed and written back loses an update, ${RUNS} runs of ${RUNS}`, async () => {
    assert.deepEqual(await raceMany('/json'), Array(RUNS).fill([1, 1, 1]));
  });

  test(`the same under a lock file made with open(..., "x") never loses one and does not wait out its time, ${RUNS} runs of ${RUNS}`, async () => {
    // first holds the lock when it is held before its write; second's open(..., "x") fails (a
    // write that failed: a lock first holds), so first goes on, and second gets the lock after it.
    assert.deepEqual(await raceMany('/json-lock'), Array(RUNS).fill([1, 2, 2]));
  });

  test(`the same lock taken in two steps (looked for, then written) lets both in and loses an update, ${RUNS} runs of ${RUNS}`, async () => {
    // first is held between finding the lock file missing and writing it; second finds it
    // missing too, takes it and is held inside; first runs to its end, then second: both read 0.
    assert.deepEqual(await raceMany('/json-lock-checked'), Array(RUNS).fill([1, 1, 1]));
  });

  test(`the same under a lock folder made with os.mkdir never loses one and does not wait out its time, ${RUNS} runs of ${RUNS}`, async () => {
    assert.deepEqual(await raceMany('/json-mkdir-lock'), Array(RUNS).fill([1, 2, 2]));
  });

  test(`the same under an exclusive flock never loses one and does not wait out its time, ${RUNS} runs of ${RUNS}`, async () => {
    // second waits in the kernel for the lock first holds (an operation that does not end): first goes on.
    assert.deepEqual(await raceMany('/json-flock'), Array(RUNS).fill([1, 2, 2]));
  });

  test(`a shelve (dbm) read and written back loses an update, ${RUNS} runs of ${RUNS}`, async () => {
    assert.deepEqual(
      (await raceMany('/shelve')).map(([first, second]) => [first, second]),
      Array(RUNS).fill([1, 1]),
    );
  });

  test(`UPDATE ... SET n = n + 1 never loses one, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/increment');
    assert.deepEqual(outcomes.map((o) => o[2]), Array(RUNS).fill(2));
  });

  test('the gate reports operations only while it is on, a connection opened at import included', async () => {
    const gate = host.gate(1);
    assert.ok(gate, 'a Python worker has a gate');
    const seen: Parameters<GateListener>[0][] = [];
    const off = gate.on((report) => seen.push(report));
    try {
      db.prepare('UPDATE counter SET n = 0 WHERE id = 1').run();
      await side(1, '/read-then-write').send();
      assert.equal(seen.length, 0, 'nothing reported with the gate off');
      await gate.setMode('watch');
      await side(1, '/read-then-write').send();
      await side(1, '/value').send();
      writeFileSync(jsonFile(), JSON.stringify({ n: 0 }));
      await side(1, '/json').send();
      await gate.setMode('off');
      const sql = seen.filter((r) => r.op.kind === 'sql');
      assert.deepEqual(
        sql.map((r) => `${r.t} ${r.op.kind === 'sql' ? r.op.sql : ''} ${r.op.write}`),
        [
          'entered SELECT n FROM counter WHERE id = 1 false',
          'finished SELECT n FROM counter WHERE id = 1 false',
          'entered UPDATE counter SET n = ? WHERE id = 1 true',
          'finished UPDATE counter SET n = ? WHERE id = 1 true',
          'entered COMMIT false',
          'finished COMMIT false',
          'entered SELECT n FROM counter WHERE id = 1 false',
          'finished SELECT n FROM counter WHERE id = 1 false',
        ],
      );
      // The JSON file: one read (json.load), then json.dump's writes; the app's own code is not data.
      const files = seen.filter((r) => r.op.kind === 'file').map((r) => `${r.t} ${r.op.kind === 'file' ? r.op.file : ''} ${r.op.write}`);
      assert.deepEqual(files.slice(0, 2), [`entered ${jsonFile()} false`, `finished ${jsonFile()} false`]);
      assert.ok(files.length > 2 && files.slice(2).every((f) => f.endsWith(`${jsonFile()} true`)), files.join('\n'));
      const update = seen.find((r) => r.t === 'finished' && r.op.kind === 'sql' && r.op.write);
      assert.ok(update?.t === 'finished' && update.inTransaction, 'an UPDATE opens a transaction (sqlite3 begins one implicitly)');
      assert.equal(counter(), 2);
    } finally {
      off();
    }
  });
});
