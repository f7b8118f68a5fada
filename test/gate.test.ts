// Forced races: race() holds one worker after its first read of shared data while another
// worker's request runs, so a read-then-write that can lose an update loses it every run, and
// one that cannot (a transaction that takes the lock first, a single UPDATE) never does.
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Host } from '../src/runtime/host.ts';
import { PIN_HEADER } from '../src/runtime/dispatcher.ts';
import { prewarm, sparePids, stopSpares } from '../src/runtime/processes.ts';
import { race, RaceError, type RaceSide } from '../src/check/race.ts';
import { killBetweenCommits } from '../src/check/crash-at.ts';
import type { GateListener } from '../src/runtime/gate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const appFile = path.join(here, 'fixtures', 'runtime', 'race-counter.js');
const RUNS = 30;

interface Answer {
  status: number;
  value: number;
  pid: number;
}

let dir: string;
let host: Host;
let db: Database.Database;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'race-'));
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
  rmSync(dir, { recursive: true, force: true });
});

function reset(): void {
  db.prepare('UPDATE counter SET n = 0 WHERE id = 1').run();
  writeFileSync(path.join(dir, 'race.json'), JSON.stringify({ n: 0 }));
}

function side(worker: number, route: string): RaceSide<Answer> {
  return {
    worker,
    async send() {
      const response = await fetch(host.url + route, { headers: { [PIN_HEADER]: String(worker) } });
      const body = (await response.json()) as { value: number; pid: number };
      return { status: response.status, value: body.value, pid: body.pid };
    },
  };
}

async function value(): Promise<{ db: number; json: number }> {
  const response = await fetch(`${host.url}/value`);
  return ((await response.json()) as { value: { db: number; json: number } }).value;
}

/** Race `route` on workers 1 and 2, RUNS times; the final values and both answers of each run. */
async function raceMany(route: string, runs = RUNS) {
  const outcomes = [];
  for (let i = 0; i < runs; i++) {
    reset();
    const [first, second] = await race(host, side(1, route), side(2, route));
    outcomes.push({ first, second, final: await value() });
  }
  return outcomes;
}

describe('killBetweenCommits(): a worker killed after one commit, before the next', () => {
  test('two commits: the first stays, the second never comes, and a fresh worker serves; one transaction: never killed', async () => {
    reset();
    const pid = host.workers()[0]!.pid;
    const point = await killBetweenCommits(host, 1);
    const cut = await fetch(`${host.url}/twice`, { headers: { [PIN_HEADER]: '1' } });
    await point.restarted;
    await point.disarm();
    assert.equal(point.killed, true);
    assert.equal(cut.status, 502);
    assert.equal((await value()).db, 1, 'the first commit stayed, the second never came');
    assert.notEqual(host.workers()[0]!.pid, pid, 'a fresh worker in its place');

    reset();
    const whole = await killBetweenCommits(host, 1);
    const answer = await side(1, '/twice-in-a-transaction').send();
    await whole.disarm();
    assert.equal(whole.killed, false);
    assert.deepEqual([answer.status, answer.value], [200, 2]);
  });
});

describe('race(): one interleaving, every run', () => {
  test(`a read-then-write without a transaction loses an update, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/read-then-write');
    // Both answer 1 (second finished while first held its read; first wrote its stale 0 + 1)
    assert.deepEqual(outcomes.map((o) => [o.first.value, o.second.value, o.final.db]), Array(RUNS).fill([1, 1, 1]));
  });

  test(`the same in an immediate transaction never loses one and does not deadlock, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/immediate');
    // first holds the write lock; second waits for it, then reads first's write
    assert.deepEqual(outcomes.map((o) => [o.first.status, o.second.status, o.first.value, o.second.value, o.final.db]), Array(RUNS).fill([200, 200, 1, 2, 2]));
  });

  test(`a JSON file read-modify-write loses an update, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/json');
    assert.deepEqual(outcomes.map((o) => [o.first.value, o.second.value, o.final.json]), Array(RUNS).fill([1, 1, 1]));
  });

  test(`a JSON file kept beside the app, inside the course's own folder, is data too: it loses an update, ${RUNS} runs of ${RUNS}`, async () => {
    const beside = path.join(here, 'fixtures', 'runtime', 'race-beside.json');
    try {
      const outcomes = [];
      for (let i = 0; i < RUNS; i++) {
        rmSync(beside, { force: true });
        const [first, second] = await race(host, side(1, '/json-beside-the-app'), side(2, '/json-beside-the-app'));
        outcomes.push([first.value, second.value]);
      }
      assert.deepEqual(outcomes, Array(RUNS).fill([1, 1]));
    } finally {
      rmSync(beside, { force: true });
    }
  });

  test(`a JSON file read and written under the database's write lock (BEGIN IMMEDIATE) never loses one and does not wait out the busy timeout, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/json-under-immediate');
    assert.deepEqual(outcomes.map((o) => [o.first.value, o.second.value, o.final.json]), Array(RUNS).fill([1, 2, 2]));
  });

  test(`a JSON file read through a read stream and written back through a write stream loses an update, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/json-streams');
    assert.deepEqual(outcomes.map((o) => [o.first.value, o.second.value, o.final.json]), Array(RUNS).fill([1, 1, 1]));
  });

  test(`a JSON file under a lock file made with O_EXCL and waited for by looking whether it is there never loses one and does not wait out its time, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/json-lock-polled');
    assert.deepEqual(outcomes.map((o) => [o.first.status, o.second.status, o.final.json]), Array(RUNS).fill([200, 200, 2]));
  });

  test(`the same under a lock file waited for by reading its owner from it never loses one, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/json-lock-owner');
    assert.deepEqual(outcomes.map((o) => [o.first.status, o.second.status, o.final.json]), Array(RUNS).fill([200, 200, 2]));
  });

  test(`the same under a lock made as a symbolic link never loses one, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/json-symlink-lock');
    assert.deepEqual(outcomes.map((o) => [o.first.status, o.second.status, o.final.json]), Array(RUNS).fill([200, 200, 2]));
  });

  test(`the same lock taken in two steps (looked for, then written) lets both in and loses an update, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/json-lock-checked');
    assert.deepEqual(outcomes.map((o) => [o.first.status, o.second.status, o.final.json]), Array(RUNS).fill([200, 200, 1]));
  });

  test('reads and writes on a descriptor (what streams are made of) are reported by the file it was opened on', async () => {
    const gate = host.gate(1)!;
    const seen: Parameters<GateListener>[0][] = [];
    const off = gate.on((report) => seen.push(report));
    try {
      reset();
      await gate.setMode('watch');
      await side(1, '/json-streams').send();
      await gate.setMode('off');
      const json = realpathSync(path.join(dir, 'race.json'));
      const finished = seen.filter((r) => r.t === 'finished').map((r) => (r.op.kind === 'file' ? `${r.op.write ? 'write' : 'read'} ${realpathSync(r.op.file)}` : r.op.sql));
      assert.ok(finished.includes(`read ${json}`), `a read of race.json among ${JSON.stringify(finished)}`);
      assert.ok(finished.includes(`write ${json}`), `a write of race.json among ${JSON.stringify(finished)}`);
      assert.ok(finished.indexOf(`read ${json}`) < finished.lastIndexOf(`write ${json}`));
      assert.ok(finished.every((entry) => !/^(read|write) fd /.test(entry)), 'no descriptor reported without its file');
    } finally {
      off();
    }
  });

  test(`UPDATE ... SET n = n + 1 never loses one, ${RUNS} runs of ${RUNS}`, async () => {
    const outcomes = await raceMany('/increment');
    // first is held after reading back its own increment; second adds on top
    assert.deepEqual(outcomes.map((o) => [o.first.value, o.second.value, o.final.db]), Array(RUNS).fill([1, 2, 2]));
  });

  test('a request with no data operation to hold at: second just runs after it', async () => {
    reset();
    const [first, second] = await race(host, side(1, '/nothing'), side(2, '/read-then-write'));
    assert.equal(first.status, 404);
    assert.equal(second.value, 1);
  });


  test('the gate reports operations only while it is on, and the app answers the same either way', async () => {
    const gate = host.gate(1)!;
    const seen: Parameters<GateListener>[0][] = [];
    const off = gate.on((report) => seen.push(report));
    try {
      reset();
      await side(1, '/read-then-write').send();
      assert.equal(seen.length, 0, 'nothing reported with the gate off');
      await gate.setMode('watch');
      await side(1, '/read-then-write').send();
      await gate.setMode('off');
      assert.deepEqual(
        seen.map((r) => `${r.t} ${r.op.kind === 'sql' ? r.op.sql : r.op.file} ${r.op.write}`),
        [
          'entered SELECT n FROM counter WHERE id = 1 false',
          'finished SELECT n FROM counter WHERE id = 1 false',
          'entered UPDATE counter SET n = ? WHERE id = 1 true',
          'finished UPDATE counter SET n = ? WHERE id = 1 true',
        ],
      );
      assert.equal((await value()).db, 2);
    } finally {
      off();
    }
  });
});

// One worker serving many requests at once, as Node does: "who is asking" kept in a module
// variable survives only as long as no other request runs while this one awaits.
const SHARED_WORKER_APP = `
import { appendFile as appendFileAsync } from 'node:fs/promises';
import { appendFile, readFileSync } from 'node:fs';
let asking;
export default async function app(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const name = url.searchParams.get('name');
  asking = name;
  const line = name + '\\n';
  if (url.pathname === '/await') await appendFileAsync(process.env.LOG, line);
  else if (url.pathname === '/callback') await new Promise((done) => appendFile(process.env.LOG, line, done));
  else if (url.pathname === '/sync') readFileSync(process.env.LOG);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ name, asking }));
}
`;

describe('race() on one worker: an asynchronous hold leaves the worker free', () => {
  let oneDir: string;
  let one: Host;
  before(async () => {
    oneDir = mkdtempSync(path.join(os.tmpdir(), 'race-one-'));
    writeFileSync(path.join(oneDir, 'app.mjs'), SHARED_WORKER_APP);
    writeFileSync(path.join(oneDir, 'visits.log'), '');
    one = new Host({ appFile: path.join(oneDir, 'app.mjs'), workers: 1, mode: 'concurrent', cwd: oneDir, env: { LOG: path.join(oneDir, 'visits.log') } });
    await one.start();
  });
  after(async () => {
    await one?.stop();
    rmSync(oneDir, { recursive: true, force: true });
  });

  type Asked = { name: string; asking: string };
  const ask = (route: string, name: string): RaceSide<Asked> => ({
    worker: 1,
    send: async () => (await fetch(`${one.url}${route}?name=${name}`, { headers: { [PIN_HEADER]: '1' } })).json() as Promise<Asked>,
  });

  test('a request held in an awaited write does not block the worker: a second request is answered meanwhile, then the first goes on', async () => {
    const gate = one.gate(1)!;
    let heldSeq: number | undefined;
    let onHeld: () => void = () => {};
    const isHeld = new Promise<void>((resolve) => (onHeld = resolve));
    const off = gate.on((report) => {
      if (!report.ask) return;
      if (report.t === 'entered') gate.go(report.seq, true);
      else if (heldSeq === undefined) {
        assert.equal(report.async, true, 'an awaited write is reported as asynchronous');
        heldSeq = report.seq;
        onHeld();
      } else gate.go(report.seq);
    });
    try {
      await gate.setMode('hold');
      let firstDone = false;
      const first = ask('/await', 'alice').send().then((answer) => ((firstDone = true), answer));
      await isHeld;
      const second = await ask('/await', 'bob').send();
      assert.deepEqual(second, { name: 'bob', asking: 'bob' });
      assert.equal(firstDone, false, 'the first request is still held');
      gate.go(heldSeq!);
      assert.deepEqual(await first, { name: 'alice', asking: 'bob' }, 'the first went on after its go, after bob had run');
    } finally {
      off();
      await gate.setMode('off');
    }
  });

  for (const route of ['/await', '/callback']) {
    test(`race(): both sides on one worker overlap at ${route}, every run`, async () => {
      for (let i = 0; i < 10; i++) {
        const [first, second] = await race(one, ask(route, 'alice'), ask(route, 'bob'));
        assert.deepEqual([first, second], [{ name: 'alice', asking: 'bob' }, { name: 'bob', asking: 'bob' }]);
      }
    });
  }

  test('race(): a first side with only synchronous operations cannot overlap on one worker: the second runs after it', async () => {
    const [first, second] = await race(one, ask('/sync', 'alice'), ask('/await', 'bob'));
    assert.deepEqual([first, second], [{ name: 'alice', asking: 'alice' }, { name: 'bob', asking: 'bob' }]);
  });

  test("race() on one worker of a host that hands it one request at a time is refused (second would queue behind first): an error for the check's author, not a hang", async () => {
    const sequential = { gate: (k: number) => one.gate(k), options: { mode: 'sequential' as const } };
    await assert.rejects(race(sequential, ask('/await', 'alice'), ask('/await', 'bob')), RaceError);
  });
});

test("spares never sit in the course's current folder: it may be removed while they boot, and a worker whose folder is gone cannot start its gate", { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const away = mkdtempSync(path.join(os.tmpdir(), 'course-cwd-'));
  const home = process.cwd();
  process.chdir(away);
  const warming = prewarm(2);
  process.chdir(home);
  try {
    await warming;
    const pids = sparePids();
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.notEqual(realpathSync(`/proc/${pid}/cwd`), realpathSync(away), `spare ${pid} sits in the course's folder`);
    rmSync(away, { recursive: true, force: true });
    // Workers taken from those spares still have their gates: a forced race completes.
    const dir2 = mkdtempSync(path.join(os.tmpdir(), 'race-'));
    const dbFile = path.join(dir2, 'race.db');
    const db2 = new Database(dbFile);
    db2.exec('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0);');
    writeFileSync(path.join(dir2, 'race.json'), JSON.stringify({ n: 0 }));
    const onSpares = new Host({ appFile, workers: 2, cwd: dir2, env: { RACE_DB: dbFile, RACE_JSON: path.join(dir2, 'race.json') } });
    try {
      await onSpares.start();
      const ask = (worker: number): RaceSide<number> => ({
        worker,
        send: async () => (await fetch(`${onSpares.url}/read-then-write`, { headers: { [PIN_HEADER]: String(worker) } })).status,
      });
      assert.deepEqual(await race(onSpares, ask(1), ask(2)), [200, 200]);
      assert.equal((db2.prepare('SELECT n FROM counter WHERE id = 1').get() as { n: number }).n, 1, 'the race was forced: one update lost');
    } finally {
      await onSpares.stop();
      db2.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  } finally {
    process.chdir(home);
    rmSync(away, { recursive: true, force: true });
    await stopSpares();
  }
});
