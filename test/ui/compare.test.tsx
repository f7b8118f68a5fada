// The "works locally" moment of lesson 3: the same check on one worker passes and on three fails.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { cleanup } from 'ink-testing-library';
import { findLesson, solutionFile } from '../../src/lessons/catalogue.ts';
import App from '../../src/ui/App.tsx';
import { KEY, renderAt, testCourse, waitForFrame, waitUntil, type TestCourse } from './helpers.tsx';

const lesson3 = findLesson('3')!;

describe('works locally: 1 worker vs N', () => {
  let course: TestCourse;
  beforeEach(() => {
    course = testCourse();
  });
  afterEach(async () => {
    cleanup();
    await course.cleanup();
  });
  const open = () =>
    renderAt(<App session={course.session} openSession={() => course.session} resources={course.resources} cwd={course.dir} lesson={lesson3.number} />);

  test('the starter passes on one worker and fails on three, and the screen says why', async () => {
    assert.equal(lesson3.worksLocally, true);
    const r = open();
    await waitForFrame(r, 'l 1 vs 3 workers');
    r.stdin.write('l');
    const frame = await waitForFrame(r, 'One process passes and 3 fail');
    // The N-worker run is in view (it follows the end); scroll up to the 1-worker verdict.
    assert.match(frame, /FAILED/);
    r.stdin.write('g');
    const top = await waitForFrame(r, 'Checking your app on 1 worker');
    assert.match(top, /PASSED\s+3 passed, 2 left out, of 5 steps/);
    assert.match(top, /left out: one worker/);
    // Only the real check (3 workers) counts as an attempt.
    await waitUntil(() => course.session.status(lesson3).attempts === 1, 'the 3-worker run to be recorded');
    assert.equal(course.session.status(lesson3).state === 'passed', false);
  });

  test('the fix passes on both', async () => {
    copyFileSync(solutionFile(lesson3), course.session.fileOf(lesson3));
    const r = open();
    await waitForFrame(r, 'l 1 vs 3 workers');
    r.stdin.write('l');
    await waitForFrame(r, 'Both pass');
    await waitUntil(() => course.session.status(lesson3).state === 'passed', 'the pass to be recorded');
    r.stdin.write(KEY.escape);
    await waitForFrame(r, 'Lesson 3 · Two workers, two lists  core track');
  });
});
