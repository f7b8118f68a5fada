// Ink's screen-reader mode (INK_SCREEN_READER=true): the course read as lines of words. Marks and
// colours are said as states ("passed:", "failed:"), bars and spinners are left out.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanup } from 'ink-testing-library';
import { interactiveTerminal } from '../../src/main.ts';
import App from '../../src/ui/App.tsx';
import { renderAt, testCourse, waitForFrame, type TestCourse } from './helpers.tsx';

const cliFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.ts');
let course: TestCourse | undefined;
let saved: string | undefined;
before(() => {
  saved = process.env.INK_SCREEN_READER;
  process.env.INK_SCREEN_READER = 'true';
});
after(() => {
  if (saved === undefined) delete process.env.INK_SCREEN_READER;
  else process.env.INK_SCREEN_READER = saved;
});
afterEach(async () => {
  cleanup();
  await course?.cleanup();
  course = undefined;
});

const MARKS = /[✓✗▶❯▰▱●○⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/u;

test('the home screen reads as words: the selected lesson and each state, no bars or marks', async () => {
  course = testCourse();
  const r = renderAt(<App session={course.session} openSession={() => course!.session} resources={course.resources} cwd={course.dir} />);
  const home = await waitForFrame(r, 'Frozen at startup');
  assert.match(home, /selected: +1\. Frozen at startup +current/);
  assert.match(home, /2\. Everyone's list +locked/);
  assert.match(home, /0 of \d+ lessons passed/);
  assert.doesNotMatch(home, MARKS);
});

test('lesson 2\'s check story in screen-reader mode: each step said passed or failed, each request served by a worker', async () => {
  // Given lesson 2 open in screen-reader mode
  course = testCourse();
  const r = renderAt(<App session={course.session} openSession={() => course!.session} resources={course.resources} cwd={course.dir} lesson={2} />);
  await waitForFrame(r, 'c check');
  // When the learner checks the starter
  r.stdin.write('c');
  const story = await waitForFrame(r, /FAILED/, 60_000);
  // Then every state is a word, and no mark stands alone
  assert.match(story, /failed: +\S/);
  assert.match(story, /served by +worker 1/);
  assert.match(story, /FAILED +\d+ of \d+ steps passed/);
  assert.doesNotMatch(story, MARKS);
  // Steps after the failure are said as not run, when there are some.
  const failedAt = story.indexOf('failed:');
  const after = story.slice(failedAt);
  if (/to come:|running:/.test(after)) assert.fail(`no step is left "to come" or "running" once the verdict is in:\n${after}`);
});

test('TERM=dumb and CI get the plain commands; NO_COLOR keeps the course and only drops colour', () => {
  const tty = { isTTY: true };
  assert.equal(interactiveTerminal(tty, tty, {}), true);
  assert.equal(interactiveTerminal(tty, tty, { TERM: 'dumb' }), false);
  assert.equal(interactiveTerminal(tty, tty, { CI: 'true' }), false);
  assert.equal(interactiveTerminal(tty, tty, { NO_COLOR: '1' }), true);
  assert.equal(interactiveTerminal({ isTTY: false }, tty, {}), false);
  // The plain list under TERM=dumb and NO_COLOR: words, and not one escape sequence.
  const plain = spawnSync(process.execPath, [cliFile, 'list'], { encoding: 'utf8', env: { PATH: process.env.PATH, TERM: 'dumb', NO_COLOR: '1' } });
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stdout, /Frozen at startup/);
  assert.doesNotMatch(plain.stdout, /\u001B\[/);
});
