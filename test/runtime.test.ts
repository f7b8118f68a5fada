import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Host, type ClockState, type HostOptions } from '../src/runtime/host.ts';
import { PortBusyError, seededRandom, WORKER_HEADER, PIN_HEADER, SCHEME_HEADER } from '../src/runtime/dispatcher.ts';
import { AppStartError, prewarm, sparePids, stopSpares } from '../src/runtime/processes.ts';
import type { HostEvent } from '../src/runtime/events.ts';
import { alive, allGone } from './helpers/processes.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'runtime');
const fixture = (name: string) => path.join(fixtures, name);
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

async function getJson(host: Host, route: string, headers: Record<string, string> = {}) {
  const response = await fetch(host.url + route, { headers });
  return { status: response.status, worker: Number(response.headers.get(WORKER_HEADER)), body: (await response.json()) as Record<string, unknown> };
}

async function startFailure(appFile: string): Promise<AppStartError> {
  // Generous: the kind of failure comes from the worker's report, and a loaded machine starts slowly
  const host = new Host({ appFile, workers: 2, cwd: os.tmpdir(), startTimeoutMs: 30_000 });
  hosts.push(host);
  const error = await host.start().then(
    () => assert.fail('the app should not start'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppStartError, `expected AppStartError, got ${String(error)}`);
  return error;
}

/** A manual clock moved by `moved` ms, plus whatever real time passed (at most `realSpan` ms). */
function assertMoved(delta: number, moved: number, realSpan: number): void {
  assert.ok(delta >= moved && delta <= moved + realSpan, `moved ${delta} ms: expected ${moved} ms and at most ${realSpan} ms of real time`);
}

describe('workers and the dispatcher', () => {
  test('round-robin hands requests to each worker in turn, each its own process', async () => {
    // Given three workers
    const host = await startHost({ appFile: fixture('counter.js'), workers: 3 });
    // When six requests arrive
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push(await getJson(host, '/'));
    // Then workers 1, 2, 3 answer in turn, from three different pids, each counting its own requests
    assert.deepEqual(replies.map((r) => r.worker), [1, 2, 3, 1, 2, 3]);
    assert.equal(new Set(replies.map((r) => r.body.pid)).size, 3);
    assert.deepEqual(replies.map((r) => r.body.served), [1, 1, 1, 2, 2, 2]);
    assert.deepEqual(host.workers().map((w) => w.served), [2, 2, 2]);
  });

  test('a pinned request goes to the worker it names; an unknown worker is a 400', async () => {
    const host = await startHost({ appFile: fixture('counter.js'), workers: 3 });
    for (const k of [3, 1, 2, 2]) {
      const reply = await getJson(host, '/', { [PIN_HEADER]: String(k) });
      assert.equal(reply.worker, k);
      assert.equal(reply.body.instance, String(k - 1));
    }
    const missing = await fetch(host.url + '/', { headers: { [PIN_HEADER]: '7' } });
    assert.equal(missing.status, 400);
    assert.match(((await missing.json()) as { error: string }).error, /no worker 7: this host runs 3 workers/);
  });

  test('random routing is replayed exactly from its seed', async () => {
    const order = async (seed: number) => {
      const host = await startHost({ appFile: fixture('counter.js'), workers: 3, policy: 'random', seed });
      const workers = [];
      for (let i = 0; i < 12; i++) workers.push((await getJson(host, '/')).worker);
      await host.stop();
      return workers;
    };
    const first = await order(42);
    assert.deepEqual(await order(42), first);
    const rng = seededRandom(42);
    assert.deepEqual(first, Array.from({ length: 12 }, () => Math.floor(rng() * 3) + 1));
    assert.ok(new Set(first).size > 1, 'twelve random picks over three workers use more than one');
  });

  test('sequential workers take one request at a time; concurrent workers interleave', async () => {
    for (const [mode, expected] of [['sequential', 1], ['concurrent', 3]] as const) {
      // Given one worker and three requests the app holds until the test releases them
      const host = await startHost({ appFile: fixture('counter.js'), workers: 1, mode });
      const gate = new Gate();
      try {
        const replies = Promise.all([1, 2, 3].map(() => getJson(host, `/hold?until=${encodeURIComponent(gate.file)}`)));
        // When all three are outstanding at once: a sequential host queues two of them, a
        // concurrent one lets all three into the app
        if (mode === 'sequential') await until(() => host.workers()[0].inFlight === 1 && host.workers()[0].queued === 2);
        else await untilAsync(async () => (await getJson(host, '/in-flight')).body.inFlight === 3);
        gate.open();
        // Then the app saw at most one at a time, or all three together
        const answers = await replies;
        assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
        assert.equal(Math.max(...answers.map((r) => Number(r.body.maxInFlight))), expected, mode);
      } finally {
        gate.open();
        await host.stop();
        gate.remove();
      }
    }
  });

  test('least-busy sends a request to an idle worker rather than a busy one', async () => {
    const host = await startHost({ appFile: fixture('counter.js'), workers: 2, policy: 'least-busy', mode: 'concurrent' });
    const gate = new Gate();
    try {
      // Given one worker busy with a request held until the test releases it
      const held = getJson(host, `/hold?until=${encodeURIComponent(gate.file)}`);
      await until(() => host.workers().some((w) => w.inFlight === 1));
      const busy = host.workers().find((w) => w.inFlight === 1)!.index;
      // When three quick requests arrive meanwhile
      const quick = [];
      for (let i = 0; i < 3; i++) quick.push(await getJson(host, '/'));
      // Then every one went to the other worker
      assert.ok(quick.every((r) => r.worker !== busy), `quick requests went to ${quick.map((r) => r.worker)} while worker ${busy} was busy`);
      gate.open();
      assert.equal((await held).worker, busy);
    } finally {
      gate.open();
      gate.remove();
    }
  });

  test('the app sees X-Forwarded-For and never the course headers', async () => {
    const host = await startHost({ appFile: fixture('counter.js') });
    const reply = await getJson(host, '/headers', { 'x-course-visitor': 'alice', [PIN_HEADER]: '1' });
    assert.equal(reply.body['x-forwarded-for'], '127.0.0.1');
    assert.equal(reply.body['x-course-visitor'], undefined);
    assert.equal(reply.body[PIN_HEADER], undefined);
  });

  test("X-Forwarded-Proto says the client's scheme as a TLS-ending proxy does: http for a person on localhost, https for a visitor over https, never the client's own", async () => {
    const host = await startHost({ appFile: fixture('counter.js') });
    // Given a person's browser at http://127.0.0.1:PORT, one that sends its own X-Forwarded-Proto, and a check's visitor over https
    const person = await getJson(host, '/headers');
    const claiming = await getJson(host, '/headers', { 'x-forwarded-proto': 'https' });
    const secure = await getJson(host, '/headers', { [SCHEME_HEADER]: 'https' });
    // Then the balancer alone decides, and how it was told never reaches the app
    assert.equal(person.body['x-forwarded-proto'], 'http');
    assert.equal(claiming.body['x-forwarded-proto'], 'http');
    assert.equal(secure.body['x-forwarded-proto'], 'https');
    assert.equal(secure.body[SCHEME_HEADER], undefined);
  });

  test('every request is an event with visitor, worker, status, latency and body', async () => {
    const host = await startHost({ appFile: fixture('counter.js'), workers: 2 });
    const events: HostEvent[] = [];
    host.events.on((e) => events.push(e));
    await fetch(host.url + '/', { headers: { 'x-course-visitor': 'bob' } }).then((r) => r.text());
    const end = events.find((e) => e.type === 'request-end');
    assert.ok(end && end.type === 'request-end');
    assert.equal(end.visitor, 'bob');
    assert.equal(end.worker, 1);
    assert.equal(end.status, 200);
    assert.match(end.body, /"served":1/);
    assert.ok(end.latencyMs > 0);
  });

  test('reload starts fresh processes that run module-level code again', async () => {
    const host = await startHost({ appFile: fixture('counter.js'), workers: 2 });
    const before = host.workers().map((w) => w.pid);
    await getJson(host, '/');
    await getJson(host, '/');
    const first = await getJson(host, '/');
    assert.equal(first.body.served, 2);
    await host.reload();
    const after = host.workers().map((w) => w.pid);
    assert.ok(after.every((pid) => !before.includes(pid)), 'new pids after a reload');
    assert.ok(await allGone(before), 'old workers have exited');
    const fresh = await getJson(host, '/');
    assert.equal(fresh.body.served, 1, 'the counter starts again');
  });

  test('the manual clock fires module-level timers only when the host moves it', async () => {
    const started = Date.now();
    const host = await startHost({ appFile: fixture('timer.js'), workers: 2, clock: 'manual' });
    const real0 = Date.now();
    const t0 = await getJson(host, '/', { [PIN_HEADER]: '1' });
    assert.equal(t0.body.ticks, 0);
    await host.advanceClock(3500);
    // Three ticks for the 3.5 s moved; a move first brings the timers level with the real time
    // since the start, so on a slow machine a tick more for each second of it
    const most = Math.floor((3500 + Date.now() - started) / 1000);
    for (const k of ['1', '2']) {
      const reply = await getJson(host, '/', { [PIN_HEADER]: k });
      const ticks = reply.body.ticks as number;
      assert.ok(ticks >= 3 && ticks <= most, `worker ${k} ticked ${ticks} times (3 to ${most})`);
    }
    const t1 = await getJson(host, '/', { [PIN_HEADER]: '1' });
    assertMoved(Number(t1.body.now) - Number(t0.body.now), 3500, Date.now() - real0);
  });

  test('on the manual clock the date goes on with real time, every clock moves with the host, and a hold keeps the date still', async () => {
    const host = await startHost({ appFile: fixture('clocks.js'), workers: 2, clock: 'manual' });
    const read = async (worker = '1') => (await getJson(host, '/', { [PIN_HEADER]: worker })).body as { date: number; performance: number; hrtime: number; uptime: number; osUptime: number };
    // The date moves between requests, as on a real machine (no request of a check meets a date that never moves)
    const first = await read();
    let later = await read();
    for (const deadline = Date.now() + 5000; later.date === first.date && Date.now() < deadline; ) later = await read();
    assert.ok(later.date > first.date, 'the date went on');
    // A move of the host moves the date and the monotonic clocks alike, and fires no timer early
    const real0 = Date.now();
    const before = await read();
    await host.advanceClock(3_600_000);
    const after = await read();
    const span = Date.now() - real0;
    assertMoved(after.date - before.date, 3_600_000, span);
    assertMoved(after.performance - before.performance, 3_600_000, span + 1);
    assertMoved(after.hrtime - before.hrtime, 3_600_000, span + 1);
    assertMoved(after.uptime - before.uptime, 3_600_000, span + 1);
    // os.uptime() counts hundredths of a second
    assertMoved(after.osUptime - before.osUptime + 10, 3_600_000, span + 20);
    // Held, every worker shows one date, the same request after request; let go, it goes on from there
    await host.holdClock(true);
    const held = [await read('1'), await read('2'), await read('1')].map((r) => r.date);
    assert.equal(new Set(held).size, 1, `one held date: ${held.join(', ')}`);
    await host.holdClock(false);
    let freed = await read();
    for (const deadline = Date.now() + 5000; freed.date === held[0] && Date.now() < deadline; ) freed = await read();
    assert.ok(freed.date > held[0]!, 'the date goes on again');
  });

  test('stop ends every worker', async () => {
    const host = await startHost({ appFile: fixture('counter.js'), workers: 3 });
    const pids = host.workers().map((w) => w.pid);
    assert.ok(pids.every(alive));
    await host.stop();
    assert.ok(await allGone(pids));
  });

  test('a learner folder with no node_modules still imports express', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-bare-'));
    try {
      copyFileSync(fixture('counter.js'), path.join(dir, 'app.js'));
      const host = await startHost({ appFile: path.join(dir, 'app.js'), cwd: dir });
      assert.equal((await getJson(host, '/')).status, 200);
      await host.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a busy port is refused with a message that suggests --port 0', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const host = new Host({ appFile: fixture('counter.js'), workers: 1, cwd: os.tmpdir(), port });
      hosts.push(host);
      await assert.rejects(host.start(), (error: unknown) => {
        assert.ok(error instanceof PortBusyError);
        assert.match(error.message, new RegExp(`Port ${port} is already in use.*--port 0`));
        return true;
      });
    } finally {
      blocker.close();
    }
  });
});

describe("the learner's app going wrong", () => {
  test('a syntax error names the file and line', async () => {
    const { problem } = await startFailure(fixture('syntax-error.js'));
    assert.equal(problem.kind, 'syntax');
    assert.equal(problem.file, fixture('syntax-error.js'));
    assert.equal(problem.line, 5);
    assert.match(problem.message, /SyntaxError/);
  });

  test('an error thrown on import names the file and line', async () => {
    const { problem } = await startFailure(fixture('throws-on-import.js'));
    assert.equal(problem.kind, 'import');
    assert.equal(problem.file, fixture('throws-on-import.js'));
    assert.equal(problem.line, 4);
    assert.match(problem.message, /SyntaxError: .*JSON/);
  });

  test('a module without a default export says how to export the app', async () => {
    const { problem } = await startFailure(fixture('no-export.js'));
    assert.equal(problem.kind, 'no-export');
    assert.match(problem.message, /export default app/);
  });

  test('an empty app file says it is empty and what to export', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-empty-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const empty = path.join(dir, 'app.js');
    writeFileSync(empty, '\n');
    const { problem } = await startFailure(empty);
    assert.equal(problem.kind, 'no-export');
    assert.match(problem.message, /^app\.js is empty, so it exports nothing/);
    assert.match(problem.message, /export default app/);
  });

  test('a default export that is not an app says what it is', async () => {
    const { problem } = await startFailure(fixture('bad-export.js'));
    assert.equal(problem.kind, 'bad-export');
    assert.match(problem.message, /default export is object, not an app/);
  });

  test('an app that never finishes importing fails with a time-out, and its worker is ended', async () => {
    const host = new Host({ appFile: fixture('never-ready.js'), workers: 1, cwd: os.tmpdir(), startTimeoutMs: 800 });
    hosts.push(host);
    const events: HostEvent[] = [];
    host.events.on((e) => events.push(e));
    await assert.rejects(host.start(), (error: unknown) => error instanceof AppStartError && error.problem.kind === 'start-timeout');
    const started = events.find((e) => e.type === 'worker-starting');
    assert.ok(started && started.type === 'worker-starting');
    assert.ok(await allGone([started.pid]));
  });

  test('crash kills a worker mid-request (its visitor gets a 502), starts a fresh one in its place, and records no problem of the app', async () => {
    const host = await startHost({ appFile: fixture('counter.js'), workers: 2, mode: 'concurrent' });
    const [one, two] = host.workers().map((w) => w.pid);
    await getJson(host, '/', { [PIN_HEADER]: '1' });
    await getJson(host, '/', { [PIN_HEADER]: '2' });
    // A request worker 1 holds (the file it waits for never comes), cut off by the crash
    const never = path.join(os.tmpdir(), `never-${process.pid}-${Date.now()}`);
    const cut = fetch(`${host.url}/hold?until=${encodeURIComponent(never)}`, { headers: { [PIN_HEADER]: '1' } });
    for (let inFlight = 0; inFlight === 0; ) inFlight = Number((await getJson(host, '/in-flight', { [PIN_HEADER]: '1' })).body.inFlight);
    await host.crash(1);
    assert.equal((await cut).status, 502);
    assert.ok(await allGone([one!]), 'the crashed worker is gone');
    const fresh = await getJson(host, '/', { [PIN_HEADER]: '1' });
    assert.notEqual(fresh.body.pid, one);
    assert.equal(fresh.body.served, 1, 'module-level code ran again in the new worker');
    const other = await getJson(host, '/', { [PIN_HEADER]: '2' });
    assert.deepEqual([other.body.pid, other.body.served], [two, 2], 'worker 2 went on as it was');
    assert.deepEqual(host.problems, []);
  });

  test('a crash in a handler answers 502, reports the error with its line, and the host can restart the worker', async () => {
    const host = await startHost({ appFile: fixture('listener-crash.js'), restartCrashed: true });
    const events: HostEvent[] = [];
    host.events.on((e) => events.push(e));
    const pid = host.workers()[0].pid;
    const response = await fetch(host.url + '/boom');
    assert.equal(response.status, 502);
    assert.match(((await response.json()) as { error: string }).error, /Worker 1 closed the connection without an answer/);
    const crash = await new Promise<HostEvent>((resolve) => {
      const found = events.find((e) => e.type === 'worker-crashed');
      if (found) resolve(found);
      else host.events.on((e) => e.type === 'worker-crashed' && resolve(e));
    });
    assert.ok(crash.type === 'worker-crashed');
    assert.match(crash.problem.message, /TypeError: cannot read the basket/);
    assert.equal(crash.problem.file, fixture('listener-crash.js'));
    assert.equal(crash.problem.line, 5);
    await new Promise<void>((resolve) => {
      if (host.workers()[0].state === 'idle' && host.workers()[0].pid !== pid) resolve();
      else host.events.on((e) => e.type === 'worker-ready' && resolve());
    });
    assert.equal(host.workers()[0].restarts, 1);
    assert.notEqual(host.workers()[0].pid, pid);
    const ok = await fetch(host.url + '/');
    assert.equal(await ok.text(), 'ok');
  });

  test("an error the app leaves uncaught goes to the app's own listener when it has one (none of the course's is counted), and ends the worker otherwise", async () => {
    const host = await startHost({ appFile: fixture('uncaught.js'), restartCrashed: true });
    const crashed: HostEvent[] = [];
    host.events.on((e) => e.type === 'worker-crashed' && crashed.push(e));
    // With a listener of the app's, a throw from a timer and a rejection nobody handles reach it
    assert.equal(await (await fetch(host.url + '/listen')).text(), 'listening');
    await fetch(host.url + '/throw').then((r) => r.text());
    await fetch(host.url + '/reject').then((r) => r.text());
    let caught = 0;
    for (const deadline = Date.now() + 5000; caught < 2 && Date.now() < deadline; ) caught = Number((await getJson(host, '/caught')).body.caught);
    assert.equal(caught, 2);
    assert.deepEqual(crashed, [], 'the worker went on');
    // A fresh worker without one ends at the throw, and the course reports it with its line
    await host.reload();
    const reported = new Promise<HostEvent>((resolve) => host.events.on((e) => e.type === 'worker-crashed' && resolve(e)));
    await fetch(host.url + '/throw').then((r) => r.text());
    const crash = await reported;
    assert.ok(crash.type === 'worker-crashed');
    assert.match(crash.problem.message, /boom in a timer/);
    assert.equal(crash.problem.line, 12);
  });

  test("a server of the app's own listens as it asks; its app.listen() of the exported app is ignored", async () => {
    const host = await startHost({ appFile: fixture('other-servers.js') });
    const seen = (await getJson(host, '/')).body as { second: boolean; own: boolean; port: number };
    assert.equal(seen.second, true, 'the other server listened');
    assert.equal(seen.own, true, "app.listen()'s callback ran");
    const greeting = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(seen.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.equal(greeting, 'hi', 'and it serves');
  });

  test('a handler that never answers gets 504 after the request time limit', async () => {
    const host = await startHost({ appFile: fixture('counter.js'), requestTimeoutMs: 300 });
    const response = await fetch(host.url + '/hang');
    assert.equal(response.status, 504);
    assert.match(((await response.json()) as { error: string }).error, /no answer within 300 ms/);
  });

  test('process.exit in a handler is reported as a crash', async () => {
    const host = await startHost({ appFile: fixture('counter.js') });
    const crashed = new Promise<HostEvent>((resolve) => host.events.on((e) => e.type === 'worker-crashed' && resolve(e)));
    const response = await fetch(host.url + '/exit');
    assert.equal(response.status, 502);
    const event = await crashed;
    assert.ok(event.type === 'worker-crashed');
    assert.match(event.problem.message, /exited with code 3/);
  });
});

describe('the jobs process, the shared manual clock and machines', () => {
  /** Lines the jobs process printed, from the host's events. */
  function jobsLines(host: Host): string[] {
    const lines: string[] = [];
    host.events.on((e) => {
      if (e.type === 'jobs-output') lines.push(e.line);
    });
    return lines;
  }

  test('the jobs module runs in exactly one extra process, with the workers\' env and clock, serving nothing', async () => {
    // Given a host with three workers and a jobs module on the manual clock
    const host = new Host({
      appFile: fixture('timer.js'),
      jobsFile: fixture('jobs.js'),
      workers: 3,
      cwd: os.tmpdir(),
      clock: 'manual',
      env: { GREETING: 'hello' },
    });
    hosts.push(host);
    const lines = jobsLines(host);
    const started = Date.now();
    await host.start();
    const jobs = host.jobs();
    assert.ok(jobs && alive(jobs.pid), 'the jobs process runs');
    assert.ok(!host.workers().some((w) => w.pid === jobs.pid), 'it is not one of the workers');
    // When the clock moves 3.5 s
    await host.advanceClock(3500);
    // Then the jobs process ran its schedule once and ticked three times, as each worker did (a
    // move first brings the timers level with the real time since the start: on a slow machine,
    // a tick more for each second of it)
    const most = Math.floor((3500 + Date.now() - started) / 1000);
    const plausible = (ticks: number) => ticks >= 3 && ticks <= most;
    assert.match(lines[0] ?? '', /^jobs started at \d+ with hello; instance 0$/);
    const jobTicks = lines.filter((l) => l.startsWith('tick ')).length;
    assert.ok(plausible(jobTicks), `the jobs process ticked ${jobTicks} times (3 to ${most})`);
    for (const k of ['1', '2', '3']) {
      const ticks = (await getJson(host, '/', { [PIN_HEADER]: k })).body.ticks as number;
      assert.ok(plausible(ticks), `worker ${k} ticked ${ticks} times (3 to ${most})`);
    }
    // And requests never go to it
    const served = new Set<number>();
    for (let i = 0; i < 6; i++) served.add((await getJson(host, '/')).worker);
    assert.deepEqual([...served].sort(), [1, 2, 3]);
  });

  test('a reload restarts the jobs process; stop ends it', async () => {
    const host = new Host({ appFile: fixture('counter.js'), jobsFile: fixture('jobs.js'), workers: 1, cwd: os.tmpdir(), clock: 'manual' });
    hosts.push(host);
    await host.start();
    const before = host.jobs()!.pid;
    await host.reload();
    const after = host.jobs()!.pid;
    assert.notEqual(after, before);
    assert.ok(await allGone([before]));
    await host.stop();
    assert.ok(await allGone([after]));
  });

  test('a jobs module that throws as it starts fails the start with its file and line', async () => {
    const host = new Host({ appFile: fixture('counter.js'), jobsFile: fixture('jobs-throws.js'), workers: 2, cwd: os.tmpdir() });
    hosts.push(host);
    const error = await host.start().then(
      () => assert.fail('the host should not start'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AppStartError);
    assert.match(error.problem.message, /the schedule could not start/);
    assert.equal(error.problem.file, fixture('jobs-throws.js'));
    assert.equal(error.problem.line, 3);
  });

  test('clockState tells that a request is waiting on a timer, and the time', async () => {
    // Given one concurrent worker on the manual clock, idle
    const host = await startHost({ appFile: fixture('counter.js'), clock: 'manual', mode: 'concurrent' });
    const real0 = Date.now();
    const idle = await host.clockState(1);
    assert.equal(idle?.timers, 0);
    // When a request that waits 100 ms on a timer arrives
    const slow = getJson(host, '/slow?ms=100');
    let waiting: ClockState | undefined = idle;
    for (let i = 0; i < 200 && waiting?.timers === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      waiting = await host.clockState(1);
    }
    // Then the worker holds one timer, and the request is answered only once the clock moves
    assert.equal(waiting?.timers, 1);
    await host.advanceClock(100);
    assert.equal((await slow).status, 200);
    const after = await host.clockState(1);
    assert.equal(after?.timers, 0);
    assertMoved(after!.now - idle!.now, 100, Date.now() - real0);
    assert.equal(await host.clockState(2), undefined, 'there is no worker 2');
  });

  test('the manual clock keeps its time across a reload and starts where the env says', async () => {
    const start = Date.UTC(2025, 5, 2, 9, 0, 0);
    const real0 = Date.now();
    const host = await startHost({ appFile: fixture('timer.js'), workers: 2, clock: 'manual', env: { COURSE_CLOCK_START: String(start) } });
    assertMoved(Number((await getJson(host, '/')).body.now) - start, 0, Date.now() - real0);
    await host.advanceClock(5000);
    await host.reload();
    for (const k of ['1', '2']) {
      const reply = await getJson(host, '/', { [PIN_HEADER]: k });
      assertMoved(Number(reply.body.now) - start, 5000, Date.now() - real0);
      assert.equal(reply.body.ticks, 0, 'a fresh worker');
    }
  });

  test('scaling out adds machines whose workers count from 0, each machine its own host name; the jobs process stays one', async () => {
    // Given three workers on one machine, and a jobs process
    const host = new Host({ appFile: fixture('counter.js'), jobsFile: fixture('jobs.js'), workers: 3, cwd: os.tmpdir() });
    hosts.push(host);
    await host.start();
    const jobs = host.jobs()!.pid;
    // Machines are told apart by their host names, numbered here in order of first sight
    const hostnames: unknown[] = [];
    const numbers = async () => {
      const seen = [];
      for (let k = 1; k <= host.workerCount; k++) {
        const { body } = await getJson(host, '/', { [PIN_HEADER]: String(k) });
        if (!hostnames.includes(body.hostname)) hostnames.push(body.hostname);
        seen.push(`${hostnames.indexOf(body.hostname) + 1}/${body.instance}`);
      }
      return seen;
    };
    assert.deepEqual(await numbers(), ['1/0', '1/1', '1/2']);
    // When the host scales out to two machines
    const before = host.workers().map((w) => w.pid);
    await host.setMachines(2);
    // Then the first machine's workers keep running, three more start numbered 1-3 on the
    // second machine, and the jobs process is still the same one
    assert.equal(host.workerCount, 6);
    assert.deepEqual(await numbers(), ['1/0', '1/1', '1/2', '2/0', '2/1', '2/2']);
    assert.equal(hostnames.length, 2);
    assert.deepEqual(host.workers().map((w) => w.machine), [1, 1, 1, 2, 2, 2]);
    assert.deepEqual(host.workers().slice(0, 3).map((w) => w.pid), before);
    assert.equal(host.jobs()!.pid, jobs);
    assert.ok(alive(jobs));
    // And scaling back in stops the second machine's workers
    const second = host.workers().slice(3).map((w) => w.pid);
    await host.setMachines(1);
    assert.equal(host.workerCount, 3);
    assert.ok(await allGone(second));
    assert.deepEqual(await numbers(), ['1/0', '1/1', '1/2']);
  });
});

describe('requests waiting in a queue', () => {
  test('a reload moves queued requests to the new workers; a stop answers them 503', async () => {
    // Given one sequential worker busy with a slow request and two more queued behind it
    const host = await startHost({ appFile: fixture('counter.js'), workers: 1, mode: 'sequential' });
    const oldPid = host.workers()[0].pid;
    const slow = fetch(`${host.url}/slow?ms=300`).then((r) => r.status);
    await until(() => host.workers()[0].inFlight === 1);
    const queued = [fetch(`${host.url}/`).then(async (r) => ({ status: r.status, body: (await r.json()) as { pid: number } }))];
    await until(() => host.workers()[0].queued === 1);
    // When the host reloads
    await host.reload();
    // Then the queued request is served by the new worker
    const moved = await queued[0];
    assert.equal(moved.status, 200);
    assert.notEqual(moved.body.pid, oldPid);
    await slow.catch(() => 0);

    // And when requests are queued while the host stops, they get a 503 rather than hanging
    const busy = fetch(`${host.url}/slow?ms=300`).catch(() => undefined);
    await until(() => host.workers()[0].inFlight === 1);
    const waiting = fetch(`${host.url}/`).then((r) => r.status);
    await until(() => host.workers()[0].queued === 1);
    await host.stop();
    assert.equal(await waiting, 503, 'the queued request is answered 503');
    await busy;
  });
});

/** A file the fixture's /hold route waits for: open() lets every held request answer. */
class Gate {
  readonly #dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-gate-'));
  readonly file = path.join(this.#dir, 'open');
  open(): void {
    writeFileSync(this.file, '');
  }
  remove(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Poll an asynchronous condition (a request to the app), with a deadline. */
async function untilAsync(condition: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail('the condition did not come true in time');
  }
}

/** Poll a condition the dispatcher offers no event for, with a deadline. */
async function until(condition: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('the condition did not come true in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('warm spare workers', () => {
  test('a reload onto warm spares still runs module-level code afresh, with the host\'s environment', async () => {
    // Given a host that keeps spares, and spares that have booted
    const host = await startHost({ appFile: fixture('counter.js'), workers: 2, spares: true, env: { GREETING: 'hello' } });
    await prewarm(2);
    await getJson(host, '/');
    await getJson(host, '/');
    assert.equal((await getJson(host, '/')).body.served, 2);
    const before = host.workers().map((w) => w.pid);
    const warm = sparePids();
    assert.equal(warm.length, 2);
    // When the host reloads
    await host.reload();
    // Then the spares became the workers: fresh processes, counting from one again,
    // numbered and configured as workers
    const after = host.workers().map((w) => w.pid);
    assert.deepEqual([...after].sort(), [...warm].sort());
    assert.ok(after.every((pid) => !before.includes(pid)));
    const first = await getJson(host, '/', { [PIN_HEADER]: '1' });
    const second = await getJson(host, '/', { [PIN_HEADER]: '2' });
    assert.equal(first.body.served, 1);
    assert.equal(second.body.served, 1);
    assert.equal(first.body.instance, '0');
    assert.equal(second.body.instance, '1');
    const headers = await getJson(host, '/env/GREETING');
    assert.equal(headers.status, 200);
    assert.equal(headers.body.value, 'hello');
    await host.stop();
    await stopSpares();
  });

  test("a host's reserved spares are taken by its reload, not replaced, and ended by its stop", async () => {
    // Given a host of two workers that booked two spares for its reload, and no warm pool
    await stopSpares();
    const host = await startHost({ appFile: fixture('counter.js'), workers: 2 });
    host.reserveSpares(2);
    const reserved = host.reservedPids();
    assert.equal(reserved.length, 2);
    // When it reloads
    await host.reload();
    // Then the reserved processes became the workers, and nothing booted to replace them
    assert.deepEqual(host.workers().map((w) => w.pid).sort(), [...reserved].sort());
    assert.deepEqual(host.reservedPids(), []);
    assert.deepEqual(sparePids(), []);
    assert.equal((await getJson(host, '/', { [PIN_HEADER]: '2' })).body.served, 1);
    await host.stop();

    // Given another host whose reserved spares are never used
    const idle = await startHost({ appFile: fixture('counter.js'), workers: 1 });
    idle.reserveSpares(3);
    const unused = idle.reservedPids();
    assert.equal(unused.length, 3);
    // When it stops, Then they are gone with it
    await idle.stop();
    assert.ok(unused.every((pid) => !alive(pid)), 'every unused spare has exited once stop() resolves');
  });
});
