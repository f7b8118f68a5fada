// The fault matrix: the course runs strangers' broken code on purpose. Each fault gets a clear
// message (file and line where there is one), and nothing hangs, leaks or is lost.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { runCheck } from '../src/check/engine.ts';
import { runCommand } from '../src/cli/program.ts';
import { findLesson } from '../src/lessons/catalogue.ts';
import { addItem, expectBasket } from '../src/lessons/basket.ts';
import type { Lesson } from '../src/check/lesson.ts';
import { ProgressError, ProgressStore } from '../src/progress/store.ts';
import { Host, type HostOptions } from '../src/runtime/host.ts';
import type { HostEvent } from '../src/runtime/events.ts';
import { alive, allGone } from './helpers/processes.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fault = (name: string) => path.join(here, 'fixtures', 'faults', name);
const runtimeFixture = (name: string) => path.join(here, 'fixtures', 'runtime', name);
const hosts: Host[] = [];
after(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
});

async function startHost(options: Partial<HostOptions> & { appFile: string }): Promise<Host> {
  const host = new Host({ workers: 1, cwd: os.tmpdir(), ...options });
  hosts.push(host);
  await host.start();
  return host;
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('the learner\'s app misbehaving while it runs', () => {
  test('an app that calls listen() itself is told the course does the listening, and still serves', async () => {
    const host = await startHost({ appFile: fault('listens-itself.js') });
    const reply = await fetch(`${host.url}/`);
    assert.equal(reply.status, 200);
    const notice = await waitForOutput(host, /\[course\] listens-itself\.js called listen\(3000\) itself/);
    assert.match(notice, /can remove it/);
  });

  test('megabytes of logs: the answer still comes, and the kept output is bounded', async () => {
    const host = await startHost({ appFile: fault('noisy.js'), requestTimeoutMs: 5000 });
    const reply = await fetch(`${host.url}/`);
    assert.equal(reply.status, 200);
    await waitForOutput(host, /log line 4999/);
    const output = host.output(1);
    assert.ok(output.length <= 200, `kept ${output.length} lines`);
    assert.ok(output.every((line) => line.length <= 2001), 'every kept line is cut to 2000 characters');
  });

  test('a handler that busy-loops the CPU and ignores SIGTERM: 504, and stop still ends the worker', async () => {
    const host = await startHost({ appFile: fault('spins.js'), requestTimeoutMs: 300 });
    const pid = host.workers()[0].pid;
    const reply = await fetch(`${host.url}/spin`);
    assert.equal(reply.status, 504);
    await host.stop();
    assert.equal(alive(pid), false);
  });

  test('timers and handles left running do not keep a stopped worker alive', async () => {
    const host = await startHost({ appFile: fault('lingering-timers.js') });
    const pid = host.workers()[0].pid;
    const exits: HostEvent[] = [];
    host.events.on((e) => e.type === 'worker-exited' && exits.push(e));
    await host.stop();
    assert.equal(alive(pid), false);
    // It exited by itself when asked (code 0), not ended by a signal after the grace period
    assert.deepEqual(
      exits.map((e) => e.type === 'worker-exited' && { pid: e.pid, code: e.code, signal: e.signal }),
      [{ pid, code: 0, signal: null }],
    );
  });
});

describe('check verdicts on broken answers', () => {
  // The engine's handling of broken answers, on a basket API of lesson 2's shape: alice adds tea
  // and reads her basket back (lesson 2's own check goes through its page first).
  const lesson: Lesson = {
    ...findLesson('2')!,
    steps: [
      {
        title: 'alice puts tea in her basket and sees it',
        async run(ctx) {
          await addItem(ctx, 'alice', 'tea');
          await expectBasket(ctx, 'alice', ['tea'], () => undefined);
        },
      },
    ],
  };

  test('an HTML error page: status 500, and the error with the app\'s own stack in the output', async () => {
    const result = await runCheck(lesson, { appFile: fault('basket-html-error.js') });
    const step = result.steps.find((s) => !s.passed)!;
    // Workers run with NODE_ENV=production, as on a host: Express's error page names no error,
    // and Express prints the error with its stack to the worker's output.
    assert.match(step.message!, /^Expected JSON like \{"items": \[\.\.\.\]\} from GET \/api\/basket \(alice, worker 1\), got status 500: HTML page "Error": Internal Server Error/);
    assert.ok(step.output?.some((line) => /ReferenceError: undefinedVariable is not defined/.test(line)), `the error is shown: ${step.output?.join('\n')}`);
    assert.match(step.diagnosis!, /threw an error/);
    assert.ok(step.output?.some((line) => /basket-html-error\.js:8/.test(line)), `the stack is shown: ${step.output?.join('\n')}`);
  });

  test('the wrong JSON shape: says which shape was expected and shows what came', async () => {
    const result = await runCheck(lesson, { appFile: fault('basket-wrong-shape.js') });
    const step = result.steps.find((s) => !s.passed)!;
    assert.equal(step.message, 'Expected JSON like {"items": ["..."]} from POST /api/basket (alice, worker 1), got {"basket":["tea"]}.');
  });

  test('a worker dying mid-check is the app dying, with its last output', async () => {
    const result = await runCheck(lesson, { appFile: fault('basket-dies.js') });
    const step = result.steps.find((s) => !s.passed)!;
    assert.equal(step.problem?.kind, 'crash');
    assert.match(step.diagnosis!, /exited with code 1/);
    assert.ok(step.output?.some((line) => line.includes('adding tea, then giving up')));
  });

  test('a hanging handler fails the step in bounded time, saying no answer came', async () => {
    // (bounded: the runner's per-test time-out fails it if the check waits forever)
    const result = await runCheck(lesson, { appFile: fault('basket-hangs.js'), requestTimeoutMs: 400 });
    const step = result.steps.find((s) => !s.passed)!;
    assert.match(step.message!, /got no answer before the time limit/);
  });
});

describe('the course itself interrupted', () => {
  test('Ctrl-C during a check whose app never starts: exit 130 and no worker left', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-int-'));
    try {
      const ws = path.join(dir, 'ws');
      await runCommand(['init', ws], { out: () => {}, err: () => {} });
      copyFileSync(runtimeFixture('never-ready.js'), path.join(ws, '02-everyones-list', 'app.js'));
      const check = spawn(process.execPath, [path.join(here, '..', 'src', 'cli.ts'), 'check', '2', '--workspace', ws], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_TEST_CONTEXT: undefined },
      });
      let workers: number[] = [];
      // Generous: a fresh course process takes seconds to start its worker on a loaded machine
      const deadline = Date.now() + 60_000;
      while (workers.length === 0 && Date.now() < deadline) {
        workers = childrenOf(check.pid!).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker-main'));
        if (workers.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(workers.length > 0, 'the check started a worker');
      let printed = '';
      check.stdout!.on('data', (d: Buffer) => (printed += d));
      check.stderr!.on('data', (d: Buffer) => (printed += d));
      check.kill('SIGINT');
      const [code] = (await once(check, 'exit')) as [number | null];
      assert.equal(code, 130, printed);
      assert.ok(await allGone(workers));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an uncaught error in the course process: every worker goes with it', async () => {
    const script = `
      import os from 'node:os';
      import { Host } from ${JSON.stringify(path.join(here, '..', 'src', 'runtime', 'host.ts'))};
      const host = new Host({ appFile: ${JSON.stringify(runtimeFixture('counter.js'))}, workers: 2, cwd: os.tmpdir() });
      await host.start();
      console.log(JSON.stringify(host.workers().map((w) => w.pid)));
      setTimeout(() => { throw new Error('the course broke'); }, 10);
    `;
    const course = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const pids = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: course.stdout! }).once('line', resolve))) as number[];
    const [code] = (await once(course, 'exit')) as [number | null];
    assert.notEqual(code, 0);
    assert.ok(await allGone(pids));
  });
});

describe('the progress database in trouble', () => {
  test('locked by another program: a clear error on open, and on record', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-lock-'));
    try {
      const file = path.join(dir, 'progress.db');
      const store = ProgressStore.open(file, { timeoutMs: 100 });
      const other = new Database(file);
      other.exec('BEGIN EXCLUSIVE');
      try {
        assert.throws(() => store.record({ lesson: 'x', passed: true, workers: 1, seed: 1, durationMs: 1, solution: false }), (error: unknown) => {
          assert.ok(error instanceof ProgressError);
          assert.match(error.message, /could not be recorded .*SQLITE_BUSY.*another program holds a lock/);
          return true;
        });
      } finally {
        other.exec('ROLLBACK');
        other.close();
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a check whose attempt cannot be recorded still shows its verdict and says why', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-lock-'));
    try {
      const ws = path.join(dir, 'ws');
      await runCommand(['init', ws], { out: () => {}, err: () => {} });
      const other = new Database(path.join(ws, '.course', 'progress.db'));
      other.exec('BEGIN EXCLUSIVE');
      let out = '';
      let err = '';
      try {
        process.env.GSC_PROGRESS_TIMEOUT_MS = '100';
        const code = await runCommand(['check', '2', '--workspace', ws], { out: (t) => (out += t), err: (t) => (err += t) });
        // A verdict that could not be saved is an environment error: exit 2.
        assert.equal(code, 2);
      } finally {
        delete process.env.GSC_PROGRESS_TIMEOUT_MS;
        other.exec('ROLLBACK');
        other.close();
      }
      assert.match(out, /FAILED/);
      assert.match(out, /NOT SAVED[^]*lock/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The first output line of worker 1 matching `pattern`; fails after `ms` with what it printed. */
async function waitForOutput(host: Host, pattern: RegExp, ms = 20_000): Promise<string> {
  const found = host.output(1).find((line) => pattern.test(line));
  if (found) return found;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`No output matched ${pattern} within ${ms} ms. Last lines:\n${host.output(1).slice(-5).join('\n')}`));
    }, ms);
    const off = host.events.on((event) => {
      if (event.type === 'worker-output' && pattern.test(event.line)) {
        clearTimeout(timer);
        off();
        resolve(event.line);
      }
    });
  });
}

describe('the workspace and the disk', () => {
  test('a learner file deleted: check says which file and how to restore it, exit 2', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-gone-'));
    try {
      const ws = path.join(dir, 'ws');
      await runCommand(['init', ws], { out: () => {}, err: () => {} });
      rmSync(path.join(ws, '03-two-workers-two-lists', 'app.js'));
      let err = '';
      const code = await runCommand(['check', '3', '--workspace', ws], { out: () => {}, err: (t) => (err += t) });
      assert.equal(code, 2);
      assert.match(err, /03-two-workers-two-lists\/app\.js is missing\. Restore the starter with: global-state-course reset 3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a full disk where the run\'s data goes: a clear message, exit 2, nothing left behind', async (t) => {
    const tiny = mkdtempSync(path.join(os.tmpdir(), 'gsc-tiny-'));
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', tiny]);
    if (mount.status !== 0) {
      rmSync(tiny, { recursive: true, force: true });
      t.skip(`cannot mount a small tmpfs here to fill (${mount.stderr.toString().trim() || `exit ${mount.status}`})`);
      return;
    }
    try {
      const check = spawnSync(process.execPath, [path.join(here, '..', 'src', 'cli.ts'), 'check', '1', '--solution'], {
        env: { ...process.env, TMPDIR: tiny, NODE_TEST_CONTEXT: undefined },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(check.status, 2, check.stderr);
      assert.match(check.stderr, /could not write this run's data in .*\(the disk is full\)\. Free some space, or point TMPDIR/);
      assert.deepEqual(readdirSync(tiny), []);
    } finally {
      spawnSync('umount', [tiny]);
      rmSync(tiny, { recursive: true, force: true });
    }
  });
});
