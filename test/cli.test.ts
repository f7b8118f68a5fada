import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCommand } from '../src/cli/program.ts';
import { findLesson, solutionFile } from '../src/lessons/catalogue.ts';
import { ProgressStore } from '../src/progress/store.ts';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCommand(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

let root: string;
let ws: string;

before(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'gsc-cli-'));
  ws = path.join(root, 'course');
  const init = await cli('init', ws);
  assert.equal(init.code, 0, init.err);
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('init and list', () => {
  test('init creates the lesson folders, the progress database and a README', () => {
    assert.ok(existsSync(path.join(ws, '01-frozen-at-startup', 'app.js')));
    assert.ok(existsSync(path.join(ws, '.course', 'progress.db')));
    assert.ok(existsSync(path.join(ws, 'README.md')));
  });

  test('init again keeps the learner\'s edits', async () => {
    const file = path.join(ws, '02-everyones-list', 'app.js');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, `${original}\n// my edit\n`);
    const again = await cli('init', ws);
    assert.equal(again.code, 0);
    assert.match(readFileSync(file, 'utf8'), /my edit/);
    writeFileSync(file, original);
  });

  test('init refuses a folder that has other files in it', async () => {
    const busy = path.join(root, 'busy');
    await cli('init', path.join(busy, 'x')); // makes busy/x a workspace; busy itself now holds x
    const result = await cli('init', busy);
    assert.equal(result.code, 2);
    assert.match(result.err, /not empty/);
  });

  test('list --json: lesson 1 is current, the rest locked, with the learner\'s file paths', async () => {
    const result = await cli('list', '--json', '--workspace', ws);
    assert.equal(result.code, 0);
    const list = JSON.parse(result.out) as { number: number; state: string; file: string }[];
    assert.equal(list[0].state, 'current');
    assert.ok(list.slice(1).every((l) => l.state === 'locked'));
    assert.equal(list[0].file, path.join(ws, '01-frozen-at-startup', 'app.js'));
  });
});

describe('check', () => {
  test('the starter fails with exit code 1 and a transcript naming workers', async () => {
    const result = await cli('check', '1', '--workspace', ws);
    assert.equal(result.code, 1);
    assert.match(result.out, /✗ A price changed in the database/);
    assert.match(result.out, /(alice|till) +GET +\/(api\/products)? +→ worker \d +200/);
    assert.match(result.out, /Expected (the page to show )?"[^"]+" at \d+\.\d\d .*worker \d\)+, got "[^"]+" at \d+\.\d\d\./);
    assert.match(result.out, /hint 1/);
  });

  test('check --json follows the documented shape', async () => {
    const result = await cli('check', 'frozen-at-startup', '--json', '--workspace', ws);
    assert.equal(result.code, 1);
    const json = JSON.parse(result.out) as {
      lesson: string;
      passed: boolean;
      steps: { title: string; passed: boolean; message?: string; requests: { visitor: string; method: string; path: string; worker: number; status: number; body: string }[] }[];
    };
    assert.equal(json.lesson, '01-frozen-at-startup');
    assert.equal(json.passed, false);
    assert.equal(json.steps[0].passed, true);
    assert.deepEqual(json.steps[0].requests.map((r) => r.worker), [1, 2, 3]);
    assert.deepEqual(Object.keys(json.steps[0].requests[0]).sort(), ['body', 'method', 'path', 'status', 'visitor', 'worker']);
    assert.match(json.steps[1].message ?? '', /^Expected /);
  });

  test('a passing fix exits 0, is recorded, and opens the next lesson', async () => {
    const lesson = findLesson('1')!;
    copyFileSync(solutionFile(lesson), path.join(ws, lesson.slug, lesson.file));
    const result = await cli('check', '1', '--workspace', ws);
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /PASSED/);
    assert.match(result.out, /Lesson 2, Everyone's list, is now open/);
    const list = JSON.parse((await cli('list', '--json', '--workspace', ws)).out) as { state: string }[];
    assert.deepEqual(list.slice(0, 2).map((l) => l.state), ['passed', 'current']);
    const progress = JSON.parse((await cli('progress', '--json', '--workspace', ws)).out) as { passed: number; lessons: { slug: string; attempts?: number }[] };
    assert.equal(progress.passed, 1);
    assert.equal(progress.lessons[0].attempts, 3);
  });

  test('--solution checks the reference fix without a workspace, and never unlocks anything', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'gsc-nows-'));
    const cwd = process.cwd();
    process.chdir(empty);
    try {
      const result = await cli('check', '2', '--solution', '--json');
      assert.equal(result.code, 0, result.err);
      assert.equal((JSON.parse(result.out) as { passed: boolean }).passed, true);
      const noWorkspace = await cli('check', '2');
      assert.equal(noWorkspace.code, 2);
      assert.match(noWorkspace.err, /No course workspace here/);
    } finally {
      process.chdir(cwd);
      rmSync(empty, { recursive: true, force: true });
    }
    const withSolution = await cli('check', '3', '--solution', '--workspace', ws);
    assert.equal(withSolution.code, 0);
    const list = JSON.parse((await cli('list', '--json', '--workspace', ws)).out) as { number: number; state: string }[];
    assert.notEqual(list.find((l) => l.number === 3)?.state, 'passed');
  });

  test('--workers 1 gives the "works locally" verdict on lesson 3; --seed routes at random and is printed', async () => {
    const local = await cli('check', '3', '--workers', '1', '--workspace', ws);
    assert.equal(local.code, 0, local.out);
    assert.match(local.out, /1 worker,/);
    assert.match(local.out, /The lesson counts a pass on 3: global-state-course check 3/);
    const progress = JSON.parse((await cli('progress', '--json', '--workspace', ws)).out) as { lessons: { slug: string; passed?: boolean }[] };
    assert.notEqual(progress.lessons.find((l) => l.slug === '03-two-workers-two-lists')?.passed, true, 'a one-worker pass opens nothing');
    const seeded = await cli('check', '3', '--seed', '99', '--workspace', ws);
    assert.equal(seeded.code, 1);
    assert.match(seeded.out, /random routing, seed 99/);
  });

  test('a syntax error in the learner\'s file fails with exit 1, naming the file and line', async () => {
    const file = path.join(ws, '02-everyones-list', 'app.js');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace("res.json({ items: basket });", 'res.json({ items: basket );'));
    try {
      const result = await cli('check', '2', '--workspace', ws);
      assert.equal(result.code, 1);
      assert.match(result.out, /The app did not start/);
      assert.match(result.out, /SyntaxError/);
      assert.match(result.out, /02-everyones-list\/app\.js:\d+/);
    } finally {
      writeFileSync(file, original);
    }
  });

  test('usage errors exit 2: unknown lesson, bad worker count, unknown option', async () => {
    const unknown = await cli('check', '42', '--workspace', ws);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /There is no lesson "42"\. Lessons: 1 \(frozen-at-startup\)/);
    const workers = await cli('check', '1', '--workers', '0', '--workspace', ws);
    assert.equal(workers.code, 2);
    assert.match(workers.err, /--workers must be a whole number/);
    const option = await cli('check', '1', '--bogus');
    assert.equal(option.code, 2);
    const noWorkspace = await cli('list', '--workspace', path.join(root, 'nowhere'));
    assert.equal(noWorkspace.code, 2);
    assert.match(noWorkspace.err, /is not a course workspace/);
  });
});

describe('hint, solution, reset', () => {
  test('hints come one at a time and are remembered', async () => {
    const first = await cli('hint', '2', '--workspace', ws);
    assert.match(first.out, /^Hint 1 of 3:/);
    const second = await cli('hint', '2', '--workspace', ws);
    assert.match(second.out, /^Hint 2 of 3:/);
    assert.doesNotMatch(second.out, /Hint 1 of 3/);
    const all = await cli('hint', '2', '--all', '--workspace', ws);
    assert.match(all.out, /Hint 1 of 3[\s\S]*Hint 2 of 3[\s\S]*Hint 3 of 3/);
  });

  test('solution shows a diff against the learner\'s file', async () => {
    const result = await cli('solution', '2', '--workspace', ws);
    assert.equal(result.code, 0);
    assert.match(result.out, /^\+import cookieParser from 'cookie-parser';$/m);
    assert.match(result.out, /^-const basket = \[\];$/m);
  });

  test('reset puts the starter back and keeps the learner\'s file as a backup', async () => {
    const lesson = findLesson('1')!;
    const file = path.join(ws, lesson.slug, lesson.file);
    const mine = readFileSync(file, 'utf8');
    const result = await cli('reset', '1', '--workspace', ws);
    assert.equal(result.code, 0);
    assert.match(result.out, /kept as/);
    assert.notEqual(readFileSync(file, 'utf8'), mine);
    const backups = readdirSync(path.join(ws, '.course', 'backups'));
    assert.ok(backups.some((name) => readFileSync(path.join(ws, '.course', 'backups', name), 'utf8') === mine));
  });
});

describe('the progress database', () => {
  test('a corrupt database is kept aside, rebuilt, and the learner is told', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-corrupt-'));
    try {
      const target = path.join(dir, 'ws');
      await cli('init', target);
      const db = path.join(target, '.course', 'progress.db');
      for (const extra of ['-wal', '-shm']) rmSync(db + extra, { force: true });
      writeFileSync(db, 'this is not a database, it is a text file of some length '.repeat(200));
      const result = await cli('list', '--workspace', target);
      assert.equal(result.code, 0);
      assert.match(result.err, /progress database was damaged .*kept as .*progress\.db\.corrupt-/);
      assert.ok(readdirSync(path.join(target, '.course')).some((n) => n.startsWith('progress.db.corrupt-')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('two stores on one database both record every attempt', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-two-'));
    try {
      const file = path.join(dir, 'progress.db');
      const a = ProgressStore.open(file);
      const b = ProgressStore.open(file);
      for (let i = 0; i < 50; i++) {
        a.record({ lesson: 'x', passed: false, workers: 3, seed: i, durationMs: 1, solution: false });
        b.record({ lesson: 'x', passed: i === 49, workers: 3, seed: i, durationMs: 1, solution: false });
      }
      assert.equal(a.summary().get('x')?.attempts, 100);
      assert.equal(b.summary().get('x')?.passed, true);
      a.close();
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
