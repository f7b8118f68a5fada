// The Python host as the course runs it: loads once and forks (or loads in each worker), says
// where the learner's code failed, limits hung imports, moves a manual clock, and leaves no
// process behind, even when the course is SIGKILLed. Skipped (saying so) without Flask.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Host } from '../src/runtime/host.ts';
import { AppStartError } from '../src/runtime/processes.ts';
import { alive, allGone } from './helpers/processes.ts';
import { flaskAvailability } from './helpers/flask.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => path.join(here, 'fixtures', 'flask', 'runtime', name);
const { skip } = await flaskAvailability();

async function startError(appFile: string, options: { startTimeoutMs?: number } = {}): Promise<AppStartError> {
  const host = new Host({ appFile, workers: 2, cwd: os.tmpdir(), ...options });
  try {
    await host.start();
  } catch (error) {
    assert.ok(error instanceof AppStartError, String(error));
    return error;
  } finally {
    await host.stop();
  }
  assert.fail('the host should not have started');
}

async function withHost<T>(options: { appFile: string; workers: number; load?: 'preload' | 'lazy'; clock?: 'manual'; restartCrashed?: boolean; requestTimeoutMs?: number; threads?: number; mode?: 'concurrent' }, use: (host: Host) => Promise<T>): Promise<T> {
  const host = new Host({ cwd: os.tmpdir(), ...options });
  await host.start();
  try {
    return await use(host);
  } finally {
    await host.stop();
  }
}

async function getJson(host: Host, route: string, worker: number): Promise<Record<string, unknown>> {
  const response = await fetch(`${host.url}${route}`, { headers: { 'x-course-pin-worker': String(worker) } });
  assert.equal(response.status, 200, `${route} on worker ${worker}`);
  return (await response.json()) as Record<string, unknown>;
}

describe('the Python host', { skip }, () => {
  test('an exception at import is reported with the file and line, as for Node', async () => {
    const error = await startError(fixture('import-error.py'));
    assert.equal(error.problem.kind, 'import');
    assert.equal(error.problem.message, "KeyError: 'port'");
    assert.equal(error.problem.file, fixture('import-error.py'));
    assert.equal(error.problem.line, 5);
  });

  test('a syntax error is reported with the file and line', async () => {
    const error = await startError(fixture('syntax-error.py'));
    assert.equal(error.problem.kind, 'syntax');
    assert.match(error.problem.message, /^SyntaxError: /);
    assert.equal(error.problem.file, fixture('syntax-error.py'));
    assert.equal(error.problem.line, 7);
  });

  test('a module without `app` says what the host looks for', async () => {
    const error = await startError(fixture('no-app.py'));
    assert.equal(error.problem.kind, 'no-export');
    assert.match(error.problem.message, /app = Flask\(__name__\)/);
  });

  test('an import that never ends hits the start time limit, and its process is ended', async () => {
    const started = Date.now();
    const error = await startError(fixture('hangs-at-import.py'), { startTimeoutMs: 1500 });
    assert.equal(error.problem.kind, 'start-timeout');
    assert.ok(Date.now() - started < 10_000);
  });

  test('preloaded: module-level code ran once, before the fork; every worker has its result', async () => {
    await withHost({ appFile: fixture('secret-at-import.py'), workers: 3 }, async (host) => {
      const answers = [await getJson(host, '/', 1), await getJson(host, '/', 2), await getJson(host, '/', 3)];
      assert.equal(new Set(answers.map((a) => a.secret)).size, 1, JSON.stringify(answers));
      assert.equal(new Set(answers.map((a) => a.pid)).size, 3, 'three processes');
      assert.ok(answers.every((a) => a.loadedIn !== a.pid), 'loaded in the master, not in a worker');
      assert.deepEqual(answers.map((a) => a.instance), ['0', '1', '2'], "each worker's own variables, set after the fork");
      assert.deepEqual(host.workers().map((w) => w.pid), answers.map((a) => a.pid));
    });
  });

  test('lazy: each worker imports the app itself, so each has its own secret', async () => {
    await withHost({ appFile: fixture('secret-at-import.py'), workers: 3, load: 'lazy' }, async (host) => {
      const answers = [await getJson(host, '/', 1), await getJson(host, '/', 2), await getJson(host, '/', 3)];
      assert.equal(new Set(answers.map((a) => a.secret)).size, 3, JSON.stringify(answers));
      assert.ok(answers.every((a) => a.loadedIn === a.pid));
    });
  });

  test("a worker's output is its own; a reload loads the app afresh", async () => {
    await withHost({ appFile: fixture('secret-at-import.py'), workers: 2 }, async (host) => {
      const lines: string[] = [];
      host.events.on((event) => {
        if (event.type === 'worker-output') lines.push(`${event.worker}: ${event.line}`);
      });
      const first = await getJson(host, '/', 2);
      await host.settle();
      assert.ok(lines.includes(`2: served by ${first.pid}`), lines.join('\n'));
      await host.reload();
      const second = await getJson(host, '/', 2);
      assert.notEqual(second.secret, first.secret);
      assert.notEqual(second.loadedIn, first.loadedIn);
    });
  });

  test('a worker that dies while serving is reported and forked again from the same load', async () => {
    await withHost({ appFile: fixture('secret-at-import.py'), workers: 2, restartCrashed: true }, async (host) => {
      const before = await getJson(host, '/', 1);
      const crashed = new Promise((resolve) => host.events.on((event) => event.type === 'worker-crashed' && resolve(event.problem)));
      const ready = new Promise((resolve) => host.events.on((event) => event.type === 'worker-ready' && resolve(event.pid)));
      await fetch(`${host.url}/exit`, { headers: { 'x-course-pin-worker': '1' } });
      const problem = (await crashed) as { message: string };
      assert.match(problem.message, /exited with code 3/);
      await ready;
      const after = await getJson(host, '/', 1);
      assert.notEqual(after.pid, before.pid);
      assert.equal(after.secret, before.secret, 'forked from the same preloaded app');
    });
  });

  test('crash kills a Python worker mid-request (502), forks a fresh one from the same load, and records no problem of the app', async () => {
    await withHost({ appFile: fixture('secret-at-import.py'), workers: 2, mode: 'concurrent' }, async (host) => {
      const before = await getJson(host, '/', 1);
      const other = await getJson(host, '/', 2);
      // worker 1 spins in /hang until the crash cuts the request off
      const cut = fetch(`${host.url}/hang`, { headers: { 'x-course-pin-worker': '1' } });
      await new Promise<void>((resolve) => host.events.on((event) => event.type === 'request-start' && resolve()));
      await host.crash(1);
      assert.equal((await cut).status, 502);
      assert.ok(await allGone([before.pid as number]), 'the crashed worker is gone');
      const after = await getJson(host, '/', 1);
      assert.notEqual(after.pid, before.pid);
      assert.equal(after.secret, before.secret, 'forked from the same preloaded app');
      assert.equal((await getJson(host, '/', 2)).pid, other.pid, 'worker 2 went on as it was');
      assert.deepEqual(host.problems, []);
    });
  });

  test('a handler that spins forever gets no answer in time, and the worker is still stopped', async () => {
    await withHost({ appFile: fixture('secret-at-import.py'), workers: 1, requestTimeoutMs: 500 }, async (host) => {
      const pid = host.workers()[0]!.pid;
      const response = await fetch(`${host.url}/hang`);
      assert.equal(response.status, 504);
      await host.stop();
      assert.ok(await allGone([pid], 3000), `worker ${pid} still alive`);
    });
  });

  test('the manual clock: time.time, datetime.now and threading.Timer follow the course', async () => {
    await withHost({ appFile: fixture('clock.py'), workers: 2, clock: 'manual' }, async (host) => {
      assert.deepEqual(await getJson(host, '/start', 1), { ok: true });
      const before = await getJson(host, '/', 1);
      assert.equal(before.ticks, 0);
      await host.advanceClock(180_000);
      const after = await getJson(host, '/', 1);
      assert.equal(after.ticks, 3);
      assert.ok(Math.abs(Number(after.elapsed) - Number(before.elapsed) - 180) < 1, JSON.stringify({ before, after }));
      assert.equal((await host.clockState(1))?.timers, 1, 'the next timer waits');
      assert.equal((await getJson(host, '/', 2)).ticks, 0, 'the other worker started no timer');
      // The clock's datetime is still a date, as werkzeug asks when it writes a cookie's expiry.
      const expires = await getJson(host, '/expires', 1);
      assert.equal(expires.isDate, true);
      assert.match(String(expires.header), / GMT$/);
    });
  });

  test('the host counts the processes still running what a clock move woke, until their work is done', async () => {
    // (lazy: each worker imports the app and starts its own timer)
    await withHost({ appFile: fixture('moving.py'), workers: 2, clock: 'manual', load: 'lazy' }, async (host) => {
      assert.equal(host.clockMoving, 0);
      const start = await Promise.all([1, 2].map(async (worker) => (await host.clockState(worker))!.now));
      // When the clock passes the job's timer, the job goes on working (it waits for /release)
      const moved = host.advanceClock(1500);
      for (const worker of [1, 2]) {
        for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
          if ((await host.clockState(worker))!.now >= start[worker - 1]! + 1000) break;
        }
      }
      // Then, the timers fired, the move is still running on both workers, and the count says so
      assert.equal(host.clockMoving, 2);
      for (const worker of [1, 2]) assert.deepEqual(await getJson(host, '/release', worker), { ok: true });
      await moved;
      // And once the jobs are done, nothing is moving
      assert.equal(host.clockMoving, 0);
      for (const worker of [1, 2]) assert.equal((await getJson(host, '/', worker)).done, 1);
    });
  });

  test('manual clock: Event.wait(timeout) waits on the clock, and set() ends the wait at once', async () => {
    await withHost({ appFile: fixture('clock.py'), workers: 1, clock: 'manual' }, async (host) => {
      assert.deepEqual(await getJson(host, '/beat', 1), { ok: true });
      while (((await host.clockState(1))?.timers ?? 0) < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      await host.advanceClock(200_000);
      const beats = async () => (await getJson(host, '/', 1)).beats as unknown[];
      assert.equal((await beats()).length, 2, 'two 90 s waits in 200 s');
      // set() wakes the waiting loop with no move of the clock
      assert.deepEqual(await getJson(host, '/stop', 1), { ok: true });
      for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
        if ((await beats()).at(-1) === 'stopped') break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal((await beats()).at(-1), 'stopped');
      assert.equal((await host.clockState(1))?.timers, 0, 'nothing waits on the clock any more');
    });
  });

  test('threads: a worker with threads serves a request while another waits (gthread); without, the next one queues', async () => {
    const waiting = async (host: Host) => {
      const slow = getJson(host, '/slow', 1);
      while (((await host.clockState(1))?.timers ?? 0) < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      return { slow }; // not the promise itself: an async function would wait for it
    };
    await withHost({ appFile: fixture('threads.py'), workers: 1, clock: 'manual', threads: 2, mode: 'concurrent' }, async (host) => {
      const { slow } = await waiting(host);
      const quick = await getJson(host, '/quick', 1);
      await host.advanceClock(1000);
      assert.notEqual((await slow).thread, quick.thread, 'two requests at once, on two threads');
    });
    await withHost({ appFile: fixture('threads.py'), workers: 1, clock: 'manual', mode: 'concurrent' }, async (host) => {
      const { slow } = await waiting(host);
      const quick = getJson(host, '/quick', 1);
      await host.advanceClock(1000);
      assert.equal((await quick).thread, (await slow).thread, 'a sync worker serves one request at a time, on one thread');
    });
  });

  test('requests that arrive together on a threaded worker take turns between the callbacks, as under the GIL, the same way every run', async () => {
    const ask = (host: Host, who: string) => getJson(host, `/who?who=${who}`, 1);
    await withHost({ appFile: fixture('callbacks.py'), workers: 1, clock: 'manual', threads: 4, mode: 'concurrent' }, async (host) => {
      for (let round = 0; round < 3; round++) {
        await host.arriveTogether(1, 3);
        const answers = Promise.all(['ann', 'ben', 'cy'].map((who) => ask(host, who)));
        // All three wait on the clock once each has read the value back.
        for (let timers = 0; timers < 3; ) timers = (await host.clockState(1))?.timers ?? 0;
        await host.advanceClock(100);
        const seen = (await answers).map((a) => a.seen);
        const last = (await answers).find((a) => a.seen === a.asked)?.asked;
        // Each read the value of the request that came in last: every other one set it in between.
        assert.ok(last, `one of them read its own value: ${JSON.stringify(seen)}`);
        assert.deepEqual(seen, [last, last, last], `round ${round}`);
      }
      // Requests not announced run as threads do: each alone reads its own value.
      for (const who of ['dee', 'eve']) {
        const answer = ask(host, who);
        for (let timers = 0; timers < 1; ) timers = (await host.clockState(1))?.timers ?? 0;
        await host.advanceClock(100);
        assert.equal((await answer).seen, who);
      }
    });
  });

  test("and at each call into a function of the app's own files, within one callback", async () => {
    await withHost({ appFile: fixture('callbacks-inside.py'), workers: 1, clock: 'manual', threads: 4, mode: 'concurrent' }, async (host) => {
      await host.arriveTogether(1, 3);
      const answers = Promise.all(['ann', 'ben', 'cy'].map((who) => getJson(host, `/who?who=${who}`, 1)));
      for (let timers = 0; timers < 3; ) timers = (await host.clockState(1))?.timers ?? 0;
      await host.advanceClock(100);
      const seen = (await answers).map((a) => a.seen);
      const last = (await answers).find((a) => a.seen === a.asked)?.asked;
      assert.ok(last, `one of them read its own value: ${JSON.stringify(seen)}`);
      assert.deepEqual(seen, [last, last, last]);
    });
  });

  test("the app reads gunicorn's command line and WSGI server keys, not the course's", async () => {
    const file = fixture('server-view.py');
    for (const [load, threads, options] of [['preload', 1, ['--preload']], ['lazy', 4, ['--threads', '4']]] as const) {
      await withHost({ appFile: file, workers: 2, load, threads }, async (host) => {
        const seen = await getJson(host, '/?a=1', 1);
        const argv = seen.argv as string[];
        assert.equal(path.basename(argv[0]!), 'gunicorn');
        assert.deepEqual(argv.slice(1), [...options, 'server-view:app']);
        assert.deepEqual((seen.origArgv as string[]).slice(1), argv);
        assert.deepEqual(seen.courseOnPath, []);
        assert.match(String(seen.software), /^gunicorn\/\d+\.\d+/);
        assert.equal(seen.multiprocess, true);
        assert.equal(seen.multithread, threads > 1);
        assert.match(String(seen.remotePort), /^\d+$/);
        assert.equal(seen.rawUri, '/?a=1');
        assert.equal(seen.gunicornLoaded, true);
        // gunicorn's own key for the connection; no Content-Type on a GET that sent none; nothing of PM2's
        assert.equal(seen.gunicornSocket, 'socket');
        assert.equal(seen.contentType, null);
        assert.deepEqual(seen.pm2, []);
      });
    }
  });

  test("behind the host's proxy, as gunicorn with forwarded_allow_ips: the proxy's scheme headers set wsgi.url_scheme; contradicting ones are refused", async () => {
    await withHost({ appFile: fixture('server-view.py'), workers: 1 }, async (host) => {
      const view = async (headers: Record<string, string>) => {
        const response = await fetch(`${host.url}/`, { headers: { 'x-course-pin-worker': '1', ...headers } });
        return { status: response.status, text: await response.text() };
      };
      // A person on http://localhost: http; a visitor over https: https (and no variable of the process in the environ)
      const plain = JSON.parse((await view({})).text) as Record<string, unknown>;
      assert.equal(plain.scheme, 'http');
      assert.equal(plain.pathInEnviron, false);
      assert.equal((JSON.parse((await view({ 'x-course-scheme': 'https' })).text) as Record<string, unknown>).scheme, 'https');
      // X-Forwarded-Ssl: on agrees with the proxy's https; off contradicts it, and gunicorn answers 400
      assert.equal((JSON.parse((await view({ 'x-course-scheme': 'https', 'x-forwarded-ssl': 'on' })).text) as Record<string, unknown>).scheme, 'https');
      const refused = await view({ 'x-course-scheme': 'https', 'x-forwarded-ssl': 'off' });
      assert.equal(refused.status, 400);
      assert.match(refused.text, /Contradictory scheme headers/);
    });
  });

  test('the manual clock: the date goes on with real time, every clock moves with the course, and a hold keeps the date still', async () => {
    await withHost({ appFile: fixture('clocks.py'), workers: 2, clock: 'manual' }, async (host) => {
      const names = ['date', 'monotonic', 'perf', 'perfNs', 'boottime', 'monotonicNs', 'realtime', 'elapsed'] as const;
      type Clocks = Record<(typeof names)[number], number>;
      const read = async (worker = 1) => (await getJson(host, '/', worker)) as unknown as Clocks;
      const first = await read();
      let later = await read();
      for (const deadline = Date.now() + 5000; later.date === first.date && Date.now() < deadline; ) later = await read();
      assert.ok(later.date > first.date, 'the date went on');
      const real0 = Date.now();
      const before = await read();
      await host.advanceClock(3_600_000);
      const after = await read();
      const span = Date.now() - real0 + 1;
      for (const clock of names) {
        const moved = after[clock] - before[clock];
        // os.times() counts in clock ticks (10 ms)
        const tick = clock === 'elapsed' ? 10 : 1;
        assert.ok(moved >= 3_600_000 - tick && moved <= 3_600_000 + span + tick, `${clock} moved ${moved} ms`);
      }
      await host.holdClock(true);
      const held = [await read(1), await read(2), await read(1)].map((r) => Math.floor(r.date));
      assert.equal(new Set(held).size, 1, `one held date: ${held.join(', ')}`);
      await host.holdClock(false);
      let freed = await read();
      for (const deadline = Date.now() + 5000; Math.floor(freed.date) === held[0] && Date.now() < deadline; ) freed = await read();
      assert.ok(freed.date > held[0]!, 'the date goes on again');
    });
  });
});

describe('no Python process survives the course', { skip }, () => {
  test('SIGKILL of the course: the host process and every forked worker exit on their own', async () => {
    const course = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'helpers', 'start-host.ts'), fixture('secret-at-import.py'), '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: course.stdout! });
      rl.on('line', (l) => l.startsWith('{"pids"') && resolve(l));
      course.once('exit', (code) => reject(new Error(`course exited with ${code}`)));
    });
    const { pids } = JSON.parse(line) as { pids: number[] };
    assert.equal(pids.length, 3);
    assert.ok(pids.every(alive));
    const parents = existsSync('/proc') ? pids.map((pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])) : [];
    course.kill('SIGKILL');
    await once(course, 'exit');
    const all = [...pids, ...new Set(parents)];
    assert.ok(await allGone(all), `still alive after SIGKILL: ${all.filter(alive)}`);
  });
});
