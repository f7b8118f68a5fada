// The playground with real workers: a panel per worker, a live request log, worker count and
// reload keys, and a real browser (headless Chromium) loading the app's page through the
// dispatcher.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { cleanup } from 'ink-testing-library';
import { findLesson } from '../../src/lessons/catalogue.ts';
import App from '../../src/ui/App.tsx';
import { allGone } from '../helpers/processes.ts';
import { renderAt, testCourse, waitForFrame, waitUntil, type Rendered, type TestCourse } from './helpers.tsx';

const run = promisify(execFile);
const lesson2 = findLesson('2')!;

/** CHROMIUM, when set, is the only place looked at (CHROMIUM=/nowhere simulates a machine without it). */
function findChromium(): string | undefined {
  const candidates = process.env.CHROMIUM !== undefined ? [process.env.CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
  return candidates.find((file) => !!file && existsSync(file));
}

/** CI installs Chromium (.ci/run), so there a missing or broken browser fails the test; elsewhere it is skipped, saying why. */
function unavailable(t: TestContext, why: string): void {
  if (process.env.CI && process.env.CI !== 'false') assert.fail(`${why} (CI is set, so this is a failure: .ci/run installs /usr/bin/chromium)`);
  t.skip(why);
}

const pidsIn = (frame: string) => [...frame.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
const urlIn = (frame: string) => /http:\/\/127\.0\.0\.1:\d+\//.exec(frame)?.[0];

describe('playground', () => {
  let course: TestCourse;
  let r: Rendered;
  beforeEach(async () => {
    course = testCourse();
    r = renderAt(<App session={course.session} openSession={() => course.session} resources={course.resources} cwd={course.dir} lesson={lesson2.number} />);
    await waitForFrame(r, 'p playground');
    r.stdin.write('p');
  });
  afterEach(async () => {
    cleanup();
    await course.cleanup();
  });

  test('shows a panel per worker and logs each request with the worker that served it', async () => {
    // Given the learner's app running on the lesson's one worker
    const frame = await waitForFrame(r, (f) => !!urlIn(f) && /● idle/.test(f));
    assert.match(frame, /A private window is a second visitor/);
    const url = urlIn(frame)!;
    // When a visitor asks for the basket
    const answer = await fetch(new URL('/api/basket', url));
    assert.equal(answer.status, 200);
    // Then the log shows the request, and the worker counts it
    const logged = await waitForFrame(r, /GET \/api\/basket → worker 1 200/);
    assert.match(logged, /served 1/);

    // When the learner asks for a second worker
    const before = pidsIn(logged);
    r.stdin.write('+');
    const added = await waitForFrame(r, (f) => /worker 2/.test(f) && (f.match(/● idle/g) ?? []).length === 2);
    assert.match(added, /your app on 2 workers/);
    // every worker was restarted: none of the old pids remain
    assert.ok(pidsIn(added).every((pid) => !before.includes(pid)), 'fresh processes');
    assert.ok(await allGone(before), 'the old worker exited');

    // When the learner reloads
    r.stdin.write('r');
    const reloaded = await waitForFrame(r, 'Reloaded all at once: 2 fresh workers');
    // and then reloads one worker at a time (R): the log says which reload ran, every worker is new
    r.stdin.write('R');
    const rolled = await waitForFrame(r, (f) => /Rolling reload done: 2 fresh workers/.test(f) && (f.match(/● idle/g) ?? []).length === 2);
    const workers = pidsIn(rolled);
    assert.ok(workers.every((pid) => !pidsIn(reloaded).includes(pid)), 'fresh processes after the rolling reload');

    // When the learner asks for one worker fewer
    await waitForFrame(r, (f) => (f.match(/● idle/g) ?? []).length === 2);
    const two = pidsIn(r.lastFrame()!);
    r.stdin.write('-');
    const one = await waitForFrame(r, (f) => /Reloaded all at once: 1 fresh worker\b/.test(f) && (f.match(/● idle/g) ?? []).length === 1);
    assert.match(one, /^your app on 1 worker:/m);
    assert.doesNotMatch(one, /│ worker 2 /, 'no panel for worker 2');
    assert.ok(pidsIn(one).every((pid) => !two.includes(pid)), 'a fresh process');
    assert.ok(await allGone([...workers, ...two]), 'the two workers exited');

    // When the learner leaves the playground, its workers stop
    const running = pidsIn(one);
    r.stdin.write('b');
    await waitForFrame(r, 'c check');
    assert.ok(await allGone(running), 'no worker outlives the playground');
  });

  test('can run the reference fix instead, and stop and start again', async () => {
    await waitForFrame(r, (f) => !!urlIn(f) && /● idle/.test(f));
    r.stdin.write('m');
    await waitForFrame(r, (f) => /the reference fix on 1 worker/.test(f) && /● idle/.test(f));
    r.stdin.write('s');
    await waitForFrame(r, 'Stopped. Press s to start again.');
    r.stdin.write('s');
    await waitForFrame(r, (f) => !!urlIn(f) && /● idle/.test(f));
  });

  test('leaving while the workers start stops them', async () => {
    // The playground is starting (p was pressed in beforeEach); leave at once.
    r.stdin.write('b');
    await waitForFrame(r, 'c check');
    await waitUntil(() => course.resources.size === 0, 'the playground host to stop');
  });

  test('a real browser loads the page through the dispatcher', async (t) => {
    const chromium = findChromium();
    if (!chromium) {
      unavailable(t, `Chromium not found (looked in ${process.env.CHROMIUM ?? '/usr/bin/chromium and friends'}; set CHROMIUM=/path): apt-get install -y chromium`);
      return;
    }
    const frame = await waitForFrame(r, (f) => !!urlIn(f) && /● idle/.test(f));
    const url = urlIn(frame)!;
    const profile = mkdtempSync(path.join(os.tmpdir(), 'gsc-chromium-'));
    try {
      const launched = await run(
        chromium,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${profile}`,
          '--dump-dom',
          url,
        ],
        { timeout: 60_000 },
      ).catch((error: Error & { stderr?: string }) => {
        unavailable(t, `Chromium (${chromium}) could not load the page: ${error.message.split('\n')[0]} ${String(error.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}`);
        return undefined;
      });
      if (!launched) return;
      const { stdout } = launched;
      // The DOM as the browser built it, from the learner's app, through a worker.
      assert.match(stdout, /<h1>Your basket<\/h1>/);
      assert.match(stdout, /<form method="post" action="\/api\/basket">/);
      await waitForFrame(r, /browser GET \/ → worker 1 200 \d+ ms page "Your basket"/);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });
});

describe('playground actions of a lesson', () => {
  test('lesson 1: e edits a price in the running app\'s database, and the reference fix shows it at once', async () => {
    const course = testCourse();
    const lesson1 = findLesson('1')!;
    const r = renderAt(<App session={course.session} openSession={() => course.session} resources={course.resources} cwd={course.dir} lesson={lesson1.number} />);
    try {
      await waitForFrame(r, 'p playground');
      r.stdin.write('p');
      // (three workers start at once: generous deadlines for a loaded machine)
      await waitForFrame(r, (f) => !!urlIn(f) && (f.match(/● idle/g) ?? []).length === 3, 60_000);
      // Given the reference fix running (it reads the products on every request)
      r.stdin.write('m');
      const frame = await waitForFrame(r, (f) => /reference fix on 3 workers/.test(f) && (f.match(/● idle/g) ?? []).length === 3, 60_000);
      assert.match(frame, /e edit a price in the database/);
      const url = urlIn(frame)!;
      // When the learner presses e
      r.stdin.write('e');
      const edited = await waitForFrame(r, /set .+ to \d+\.\d\d in the database/);
      const [, name, price] = /set (.+?) to (\d+\.\d\d) in the database/.exec(edited)!;
      // Then every worker answers with the new price
      for (let i = 0; i < 3; i++) {
        const body = (await (await fetch(new URL('/api/products', url))).json()) as { products: { name: string; price: number }[] };
        assert.equal(body.products.find((p) => p.name === name)?.price, Math.round(Number(price) * 100));
      }
    } finally {
      cleanup();
      await course.cleanup();
    }
  });
});
