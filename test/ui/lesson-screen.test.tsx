// The lesson screen with the real engine: keys in, a live check story out, the attempt recorded.
// Workers are real processes; every test stops them in teardown.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, renameSync, writeFileSync, readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { cleanup } from 'ink-testing-library';
import { exerciseFile, findLesson, solutionFile } from '../../src/lessons/catalogue.ts';
import App from '../../src/ui/App.tsx';
import { renderAt, testCourse, waitForFrame, waitUntil, type TestCourse } from './helpers.tsx';

const lesson1 = findLesson('1')!;

describe('lesson screen', () => {
  let course: TestCourse;
  beforeEach(() => {
    course = testCourse();
  });
  afterEach(async () => {
    cleanup();
    await course.cleanup();
  });
  const open = (lesson: number) =>
    renderAt(<App session={course.session} openSession={() => course.session} resources={course.resources} cwd={course.dir} lesson={lesson} />);

  test('shows the lesson text and the file to edit as a path to copy', async () => {
    const r = open(1);
    const frame = await waitForFrame(r, 'The Corner Shop sells');
    assert.match(frame, /Edit global-state-course\/01-frozen-at-startup\/app\.js/);
    assert.match(frame, /c check\s+w watch: off\s+p playground\s+h hint\s+s solution\s+r reset/);
    for (const line of frame.split('\n')) assert.ok(line.length <= 80, `wider than 80 columns: ${line}`);
    assert.ok(frame.split('\n').length <= 24, 'taller than 24 rows');
  });

  test('the check fails live with worker labels, then passes on the fix and opens the next lesson', async () => {
    const r = open(1);
    await waitForFrame(r, 'The Corner Shop sells');
    // When the learner checks the starter
    r.stdin.write('c');
    // Then the story is drawn while it runs, not after the fact
    await waitForFrame(r, /Starting 3 workers|⠋|⠙|⠹|⠸|⠼|⠴|⠦|⠧|⠇|⠏/);
    const failed = await waitForFrame(r, 'FAILED');
    assert.match(failed, /→ worker \d 200/);
    assert.match(failed, /Expected (the page to show )?"[^"]+"\s+at\s+\d+\.\d\d\s[\s\S]*?worker\s+\d\)+,\s+got\s+"[^"]+"\s+at\s+\d+\.\d\d\./);
    assert.match(failed, /still\s+(shows|answers\s+\/api\/products\s+with)\s+the\s+rows\s+(that\s+worker|it)\s+read\s+when\s+it\s+started/);
    assert.ok(
      r.frames.some((f) => f.includes('Checking your app on 3 workers') && !f.includes('FAILED')),
      'a frame showed the run before its verdict',
    );
    await waitUntil(() => course.session.status(lesson1).attempts === 1, 'the attempt to be recorded');
    assert.equal(course.session.status(findLesson('2')!).state, 'locked');

    // When the file is the reference fix and the learner checks again
    copyFileSync(solutionFile(lesson1), course.session.fileOf(lesson1));
    r.stdin.write('c');
    // (the panel appears with the verdict; the unlocked lesson once the attempt is recorded)
    const passed = await waitForFrame(r, /Lesson 2, Everyone's list, is now open/);
    assert.match(passed, /Lesson 1 passed/);
    const steps = lesson1.steps.length;
    assert.match(passed, new RegExp(`PASSED\\s+${steps} of ${steps} steps`));
    assert.equal(course.session.status(lesson1).state, 'passed');
    assert.equal(course.session.status(findLesson('2')!).state, 'current');

    // And n goes on to lesson 2
    r.stdin.write('n');
    await waitForFrame(r, "Lesson 2 · Everyone's list");
  });

  test('c pressed the moment the verdict shows checks again (once the workers have stopped)', async () => {
    const r = open(1);
    await waitForFrame(r, 'The Corner Shop sells');
    r.stdin.write('c');
    await waitForFrame(r, 'FAILED');
    // The engine is still stopping the first run's workers when the verdict appears.
    r.stdin.write('c');
    await waitForFrame(r, 'run 2');
    // The second run's verdict (its story is longer than the screen, so the "run 2" header may
    // have scrolled away by then): recorded after it shows.
    await waitUntil(() => course.session.status(lesson1).attempts === 2, 'both attempts to be recorded');
    await waitForFrame(r, 'FAILED');
  });

  test('keys wait while a check runs', async () => {
    const r = open(1);
    await waitForFrame(r, 'The Corner Shop sells');
    r.stdin.write('c');
    await waitForFrame(r, 'keys wait until the run ends');
    r.stdin.write('h');
    r.stdin.write('b');
    await waitForFrame(r, 'FAILED');
    assert.equal(course.session.hintsShown(lesson1), 0, 'h was ignored during the run');
    assert.match(r.lastFrame()!, /Lesson 1 · Frozen at startup/, 'b was ignored during the run');
  });

  test('hints come one at a time and are remembered', async () => {
    const r = open(1);
    await waitForFrame(r, 'The Corner Shop sells');
    r.stdin.write('h');
    const first = await waitForFrame(r, 'Hint 1 of 3');
    assert.match(first, /Look at where/);
    r.stdin.write('h');
    await waitForFrame(r, 'Hint 2 of 3');
    assert.equal(course.session.hintsShown(lesson1), 2);
    r.stdin.write('t');
    await waitForFrame(r, (f) => !f.includes('Hint 2 of 3'));
  });

  test('the solution before a pass needs a yes, and shows a coloured diff against the learner\'s file', async () => {
    const r = open(1);
    await waitForFrame(r, 'The Corner Shop sells');
    r.stdin.write('s');
    await waitForFrame(r, 'Show the reference fix anyway? (y/n)');
    r.stdin.write('n');
    await waitForFrame(r, (f) => !f.includes('Show the reference fix anyway'));
    assert.doesNotMatch(r.lastFrame()!, /The reference fix/);
    r.stdin.write('s');
    await waitForFrame(r, 'anyway? (y/n)');
    r.stdin.write('y');
    const diff = await waitForFrame(r, 'The reference fix');
    assert.match(diff, /^- const products = db\.prepare/m);
    assert.match(diff, /^\+ const selectProducts = db\.prepare/m);
  });

  test('after a pass, s shows the solution at once, without asking', async () => {
    // Given lesson 1 passed
    course.session.recordCheck(lesson1, { lesson: lesson1.slug, number: 1, passed: true, workers: 3, policy: 'round-robin', seed: 1, durationMs: 1, steps: [] });
    const r = open(1);
    await waitForFrame(r, 'The Corner Shop sells');
    // When the learner presses s
    r.stdin.write('s');
    // Then the diff shows, and no frame asked first
    const diff = await waitForFrame(r, 'The reference fix');
    assert.match(diff, /^\+ const selectProducts = db\.prepare/m);
    assert.ok(!r.frames.some((f) => f.includes('anyway? (y/n)')), 'no confirmation after a pass');
  });

  test('reset asks, then puts the starter back and keeps a backup', async () => {
    const file = course.session.fileOf(lesson1);
    writeFileSync(file, '// half done\n');
    const r = open(1);
    await waitForFrame(r, 'The Corner Shop sells');
    r.stdin.write('r');
    await waitForFrame(r, 'Put the starter back in');
    r.stdin.write('y');
    await waitForFrame(r, 'is the starter again');
    assert.equal(readFileSync(file, 'utf8'), readFileSync(exerciseFile(lesson1), 'utf8'));
    const backups = readdirSync(course.session.workspace.backupsDir);
    assert.equal(backups.length, 1);
  });

  test('watch mode checks again when the learner saves, atomic saves included', async () => {
    const r = open(1);
    await waitForFrame(r, 'The Corner Shop sells');
    r.stdin.write('w');
    await waitForFrame(r, 'watch: on');
    await waitForFrame(r, 'every save runs the check');
    // When the learner saves as many editors do: write a temp file, rename it over theirs
    const file = course.session.fileOf(lesson1);
    writeFileSync(`${file}.tmp`, readFileSync(solutionFile(lesson1)));
    renameSync(`${file}.tmp`, file);
    // Then the check runs by itself, passes, and the pass is recorded: the next lesson opens
    await waitForFrame(r, 'you saved');
    await waitForFrame(r, 'Lesson 1 passed');
    await waitForFrame(r, 'is now open');
    assert.equal(course.session.status(lesson1).state, 'passed');
  });
});
