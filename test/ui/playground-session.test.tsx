// The playground over a session: one URL across m and s (an open browser tab keeps working), a
// clock key for lessons on a manual clock, and the solution shown for every file of a lesson.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { cleanup } from 'ink-testing-library';
import { findLesson } from '../../src/lessons/catalogue.ts';
import App from '../../src/ui/App.tsx';
import { KEY, renderAt, testCourse, waitForFrame, type Rendered, type TestCourse } from './helpers.tsx';

const urlIn = (frame: string) => /http:\/\/127\.0\.0\.1:\d+\//.exec(frame)?.[0];
const idle = (frame: string, n: number) => (frame.match(/● idle/g) ?? []).length === n;

let course: TestCourse | undefined;
afterEach(async () => {
  cleanup();
  await course?.cleanup();
  course = undefined;
});

function openLesson(number: number, size = { columns: 100, rows: 30 }): Rendered {
  course = testCourse();
  return renderAt(<App session={course.session} openSession={() => course!.session} resources={course.resources} cwd={course.dir} lesson={number} />, size);
}

describe('playground', () => {
  test('keeps its URL for the session across m (reference fix) and s (stop, start)', async () => {
    // Given the playground running the learner's app
    const r = openLesson(2);
    await waitForFrame(r, 'p playground');
    r.stdin.write('p');
    const first = await waitForFrame(r, (f) => !!urlIn(f) && idle(f, 1));
    const url = urlIn(first)!;
    // When the learner switches to the reference fix
    r.stdin.write('m');
    const fix = await waitForFrame(r, (f) => /the reference fix on 1 worker/.test(f) && idle(f, 1) && !!urlIn(f));
    // Then the URL is the same, and it answers
    assert.equal(urlIn(fix), url);
    assert.equal((await fetch(new URL('/api/basket', url))).status, 200);
    // When they stop and start again
    r.stdin.write('s');
    await waitForFrame(r, 'Stopped. Press s to start again.');
    r.stdin.write('s');
    const again = await waitForFrame(r, (f) => idle(f, 1) && !!urlIn(f));
    assert.equal(urlIn(again), url);
    assert.equal((await fetch(new URL('/api/basket', url))).status, 200);
    r.stdin.write('b');
    await waitForFrame(r, 'c check');
  });

  test('on a manual clock, T moves the app a day on: lesson 8\'s nightly job runs in the playground', async () => {
    const r = openLesson(8);
    await waitForFrame(r, 'p playground');
    r.stdin.write('p');
    const running = await waitForFrame(r, (f) => !!urlIn(f) && idle(f, 3), 60_000);
    assert.match(running, /t\/T clock \+1 hour\/day/);
    const url = urlIn(running)!;
    const sent = async () => ((await (await fetch(new URL('/api/sent', url))).json()) as { sent: unknown[] }).sent.length;
    assert.equal(await sent(), 0, 'nothing is sent before the night');
    // When the learner moves the clock a day on
    r.stdin.write('T');
    await waitForFrame(r, 'Clock moved forward 1 day');
    // Then the night has passed for the app: the job ran (on every worker: the lesson's bug)
    assert.ok((await sent()) > 0, 'the nightly emails went out');
    r.stdin.write('b');
    await waitForFrame(r, 'c check');
  });
});

test('the solution panel shows every file of the lesson: lesson 8\'s jobs.js too', async () => {
  const r = openLesson(8);
  await waitForFrame(r, 's solution');
  r.stdin.write('s');
  await waitForFrame(r, 'Show the reference fix anyway?');
  r.stdin.write('y');
  await waitForFrame(r, /as changes to .*app\.js/);
  // Page down through the diff to the second file.
  let found = false;
  for (let page = 0; page < 40 && !found; page++) {
    r.stdin.write(KEY.pageDown);
    found = await waitForFrame(r, /jobs\.js is the same as the reference fix|as changes to .*jobs\.js/, 200).then(
      () => true,
      () => false,
    );
  }
  assert.ok(found, 'jobs.js has its own diff in the solution panel');
  const files = course!.session.solutionDiffs(findLesson('8')!).map((d) => d.file);
  assert.deepEqual(files.map((f) => f.split('/').pop()), ['app.js', 'jobs.js']);
});
