import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { runCommand } from '../src/cli/program.ts';
import { findLesson, lessons, solutionFile } from '../src/lessons/catalogue.ts';
import { ProgressStore } from '../src/progress/store.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

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

/** A fresh workspace of its own for one test, removed when the test ends. */
async function workspace(t: TestContext): Promise<{ root: string; ws: string }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gsc-cli-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const ws = path.join(root, 'course');
  const init = await cli('init', ws);
  assert.equal(init.code, 0, init.err);
  return { root, ws };
}

/** The lines of `text` that mention lesson `n` in a list ("  ▶  1. Frozen at startup  current · ..."). */
const lessonLine = (text: string, n: number) => text.split('\n').find((line) => new RegExp(`^\\s+\\S+\\s+${n}\\. `).test(line)) ?? '';

describe('init and list', () => {
  test('init creates the lesson folders, the progress database and a README', async (t) => {
    const { ws } = await workspace(t);
    assert.ok(existsSync(path.join(ws, '01-frozen-at-startup', 'app.js')));
    assert.ok(existsSync(path.join(ws, '.course', 'progress.db')));
    assert.ok(existsSync(path.join(ws, 'README.md')));
  });

  test('init again keeps the learner\'s edits', async (t) => {
    const { ws } = await workspace(t);
    const file = path.join(ws, '02-everyones-list', 'app.js');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, `${original}\n// my edit\n`);
    const again = await cli('init', ws);
    assert.equal(again.code, 0, again.out + again.err);
    assert.match(readFileSync(file, 'utf8'), /my edit/);
    writeFileSync(file, original);
  });

  test('init refuses a folder that has other files in it', async (t) => {
    const { root } = await workspace(t);
    const busy = path.join(root, 'busy');
    await cli('init', path.join(busy, 'x')); // makes busy/x a workspace; busy itself now holds x
    const result = await cli('init', busy);
    assert.equal(result.code, 2);
    assert.match(result.err, /not empty/);
  });

  test('list --json: lesson 1 is current, the rest locked, with the learner\'s file paths', async (t) => {
    const { ws } = await workspace(t);
    const result = await cli('list', '--json', '--workspace', ws);
    assert.equal(result.code, 0, result.out + result.err);
    const list = JSON.parse(result.out) as { number: number; state: string; file: string }[];
    assert.equal(list[0].state, 'current');
    assert.ok(list.slice(1).every((l) => l.state === 'locked'));
    assert.equal(list[0].file, path.join(ws, '01-frozen-at-startup', 'app.js'));
  });
});

describe('list and progress as text', () => {
  test('each lesson with its mark, state and attempts; progress counts the passes', async (t) => {
    // Given lesson 1 failed once then passed
    const { ws } = await workspace(t);
    const store = ProgressStore.open(path.join(ws, '.course', 'progress.db'));
    for (const passed of [false, true]) store.record({ lesson: '01-frozen-at-startup', passed, workers: 3, seed: 1, durationMs: 1, solution: false });
    store.close();
    // Then the list marks it passed with its attempts, lesson 2 current, lesson 3 locked
    const list = await cli('list', '--workspace', ws);
    assert.equal(list.code, 0, list.err);
    const text = stripVTControlCharacters(list.out);
    assert.match(text, /^Core track$/m);
    assert.match(text, /^Advanced track$/m);
    assert.match(lessonLine(text, 1), /✓ +1\. Frozen at startup +passed · A price changed in the database shows only after a reload\. \(2 attempts\)$/);
    assert.match(lessonLine(text, 2), /▶ +2\. Everyone's list +current · /);
    assert.doesNotMatch(lessonLine(text, 2), /attempt/);
    assert.match(lessonLine(text, 3), /· +3\. Two workers, two lists +locked · /);
    // And progress says how many passed, where, then the same list
    const progress = await cli('progress', '--workspace', ws);
    assert.equal(progress.code, 0, progress.err);
    const summary = stripVTControlCharacters(progress.out);
    assert.match(summary, new RegExp(`^1 of ${lessons.length} lessons passed \\(${ws.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`, 'm'));
    assert.match(lessonLine(summary, 1), /passed .*\(2 attempts\)$/);
    assert.match(lessonLine(summary, 2), /current/);
  });
});

describe('serve', () => {
  test("serves the learner's own file on --workers N, each request logged with its worker", async (t) => {
    // Given a learner's lesson 2 app with a route of their own
    const { ws } = await workspace(t);
    const file = path.join(ws, '02-everyones-list', 'app.js');
    writeFileSync(file, readFileSync(file, 'utf8').replace('export default app;', "app.get('/mine', (req, res) => res.json({ mine: true, instance: process.env.NODE_APP_INSTANCE }));\nexport default app;"));
    // When it is served on 2 workers (lesson 2 runs 1 by default)
    const serve = spawn(process.execPath, [path.join(repo, 'src', 'cli.ts'), 'serve', '2', '--workers', '2', '--port', '0', '--workspace', ws], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', NODE_TEST_CONTEXT: undefined },
    });
    t.after(() => serve.kill('SIGKILL'));
    let printed = '';
    serve.stdout!.on('data', (d: Buffer) => (printed += d));
    serve.stderr!.on('data', (d: Buffer) => (printed += d));
    const output = (pattern: RegExp) => waitForText(() => printed, pattern, serve);
    const header = await output(/Lesson 2 · Everyone's list: \d+ workers? \(.*\)\n/);
    assert.match(header, /Lesson 2 · Everyone's list: 2 workers \(pid \d+, pid \d+\)/);
    const url = /Open (http:\/\/127\.0\.0\.1:\d+)\//.exec(await output(/Open http/))![1];
    // Then the learner's route answers, from each worker in turn
    const answers: unknown[] = [];
    for (let i = 0; i < 2; i++) answers.push(await (await fetch(`${url}/mine`)).json());
    assert.deepEqual(answers, [{ mine: true, instance: '0' }, { mine: true, instance: '1' }]);
    await output(/GET +\/mine +→ worker 2 +200/);
    assert.match(printed, /GET +\/mine +→ worker 1 +200/);
    serve.kill('SIGTERM');
    const [code] = (await once(serve, 'exit')) as [number | null];
    assert.equal(code, 0, printed);
  });
});

/** Resolves with the text once it matches `pattern`; fails if `child` exits first or after `ms`. */
async function waitForText(text: () => string, pattern: RegExp, child: ChildProcess, ms = 60_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (!pattern.test(text())) {
    if (child.exitCode !== null || child.signalCode !== null) assert.fail(`exited before printing ${pattern}:\n${text()}`);
    if (Date.now() > deadline) assert.fail(`did not print ${pattern} within ${ms} ms:\n${text()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return text();
}

describe('check', () => {
  test('the starter fails with exit code 1 and a transcript naming workers', async (t) => {
    const { ws } = await workspace(t);
    const result = await cli('check', '1', '--workspace', ws);
    assert.equal(result.code, 1);
    assert.match(result.out, /✗ A price changed in the database/);
    assert.match(result.out, /(alice|till) +GET +\/(api\/products)? +→ worker \d +200/);
    assert.match(result.out, /Expected (the page to show )?"[^"]+"\s+at\s+\d+\.\d\d\s[\s\S]*?worker \d\)+,\s+got\s+"[^"]+"\s+at\s+\d+\.\d\d\./);
    assert.match(result.out, /hint 1/);
  });

  test('check --json follows the documented shape', async (t) => {
    const { ws } = await workspace(t);
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
    // the first step visits every worker (in the run's seeded order)
    assert.deepEqual([...new Set(json.steps[0].requests.map((r) => r.worker))].sort(), [1, 2, 3]);
    // every request has these; `kind` (page, form or api) only where the visitor's request had
    // one, `cache` (browser or shared) and `revalidated` only where a cache answered
    for (const request of json.steps.flatMap((s) => s.requests)) {
      assert.deepEqual(Object.keys(request).filter((k) => !['kind', 'cache', 'revalidated'].includes(k)).sort(), ['body', 'method', 'path', 'status', 'visitor', 'worker']);
      if ('kind' in request) assert.match(String(request.kind), /^(page|form|api)$/);
      if ('cache' in request) assert.match(String(request.cache), /^(browser|shared)$/);
      if ('revalidated' in request) assert.equal(request.revalidated, true);
    }
    assert.match(json.steps[1].message ?? '', /^Expected /);
  });

  test('a passing fix exits 0, is recorded, and opens the next lesson', async (t) => {
    const { ws } = await workspace(t);
    const lesson = findLesson('1')!;
    assert.equal((await cli('check', '1', '--workspace', ws)).code, 1, 'the starter fails first');
    copyFileSync(solutionFile(lesson), path.join(ws, lesson.slug, lesson.file));
    const result = await cli('check', '1', '--workspace', ws);
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /PASSED/);
    assert.match(result.out, /Lesson 2, Everyone's list, is now open/);
    const list = JSON.parse((await cli('list', '--json', '--workspace', ws)).out) as { state: string }[];
    assert.deepEqual(list.slice(0, 2).map((l) => l.state), ['passed', 'current']);
    const progress = JSON.parse((await cli('progress', '--json', '--workspace', ws)).out) as { passed: number; lessons: { slug: string; attempts?: number }[] };
    assert.equal(progress.passed, 1);
    assert.equal(progress.lessons[0].attempts, 2);
  });

  test('--solution checks the reference fix without a workspace, and never unlocks anything', async (t) => {
    const { ws } = await workspace(t);
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
    assert.equal(withSolution.code, 0, withSolution.out + withSolution.err);
    const list = JSON.parse((await cli('list', '--json', '--workspace', ws)).out) as { number: number; state: string }[];
    assert.notEqual(list.find((l) => l.number === 3)?.state, 'passed');
  });

  test('--workers 1 gives the "works locally" verdict on lesson 3; --seed routes at random and is printed', async (t) => {
    const { ws } = await workspace(t);
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

  test('a syntax error in the learner\'s file fails with exit 1, naming the file and line', async (t) => {
    const { ws } = await workspace(t);
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

  test('usage errors exit 2: unknown lesson, bad worker count, unknown option', async (t) => {
    const { root, ws } = await workspace(t);
    const unknown = await cli('check', '42', '--workspace', ws);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /There is no lesson "42"\. Lessons: 1 \(frozen-at-startup\)/);
    const workers = await cli('check', '1', '--workers', '0', '--workspace', ws);
    assert.equal(workers.code, 2);
    assert.match(workers.err, /--workers must be a whole number/);
    const option = await cli('check', '1', '--bogus');
    assert.equal(option.code, 2);
    assert.match(option.err, /unknown option '--bogus'/);
    const noWorkspace = await cli('list', '--workspace', path.join(root, 'nowhere'));
    assert.equal(noWorkspace.code, 2);
    assert.match(noWorkspace.err, /is not a course workspace/);
  });
});

describe('hint, solution, reset', () => {
  test('hints come one at a time and are remembered', async (t) => {
    const { ws } = await workspace(t);
    const first = await cli('hint', '2', '--workspace', ws);
    assert.match(first.out, /^Hint 1 of 3:/);
    const second = await cli('hint', '2', '--workspace', ws);
    assert.match(second.out, /^Hint 2 of 3:/);
    assert.doesNotMatch(second.out, /Hint 1 of 3/);
    const all = await cli('hint', '2', '--all', '--workspace', ws);
    assert.match(all.out, /Hint 1 of 3[\s\S]*Hint 2 of 3[\s\S]*Hint 3 of 3/);
  });

  test('solution shows a diff against the learner\'s file', async (t) => {
    const { ws } = await workspace(t);
    const result = await cli('solution', '2', '--workspace', ws);
    assert.equal(result.code, 0, result.out + result.err);
    assert.match(result.out, /^\+import cookieParser from 'cookie-parser';$/m);
    assert.match(result.out, /^-const basket = \[\];$/m);
  });

  test('reset puts the starter back and keeps the learner\'s file as a backup', async (t) => {
    const { ws } = await workspace(t);
    const lesson = findLesson('1')!;
    const file = path.join(ws, lesson.slug, lesson.file);
    const starter = readFileSync(file, 'utf8');
    const mine = `${starter}\n// the learner's edit\n`;
    writeFileSync(file, mine);
    const result = await cli('reset', '1', '--workspace', ws);
    assert.equal(result.code, 0, result.out + result.err);
    assert.match(result.out, /kept as/);
    assert.equal(readFileSync(file, 'utf8'), starter);
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
      assert.equal(result.code, 0, result.out + result.err);
      // the list still shows, from the new (empty) database
      assert.match(lessonLine(result.out, 1), /Frozen at startup +current/);
      assert.match(lessonLine(result.out, 2), /Everyone's list +locked/);
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
