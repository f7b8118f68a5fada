// The course screen when a result cannot be saved: it says so, and what still works.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, test } from 'node:test';
import Database from 'better-sqlite3';
import { cleanup } from 'ink-testing-library';
import { findLesson, solutionFile } from '../../src/lessons/catalogue.ts';
import App from '../../src/ui/App.tsx';
import { renderAt, testCourse, waitForFrame, type TestCourse } from './helpers.tsx';

let course: TestCourse | undefined;
afterEach(async () => {
  cleanup();
  await course?.cleanup();
  course = undefined;
});

test('a pass that cannot be recorded: NOT SAVED, the next lesson stays locked, and what still works', async () => {
  // Given lesson 2 fixed, and its progress database locked by another program
  process.env.GSC_PROGRESS_TIMEOUT_MS = '100';
  try {
    course = testCourse();
  } finally {
    delete process.env.GSC_PROGRESS_TIMEOUT_MS;
  }
  const lesson = findLesson('2')!;
  copyFileSync(solutionFile(lesson), course.session.fileOf(lesson));
  const other = new Database(course.session.workspace.progressFile);
  other.exec('BEGIN EXCLUSIVE');
  try {
    const r = renderAt(<App session={course.session} openSession={() => course!.session} resources={course.resources} cwd={course.dir} lesson={2} />, { columns: 100, rows: 40 });
    await waitForFrame(r, 'c check');
    // When the check passes
    r.stdin.write('c');
    const frame = await waitForFrame(r, 'NOT SAVED', 60_000);
    // Then the screen says it was not recorded, and what still works
    const flat = frame.replace(/\s+/g, ' ');
    assert.match(flat, /NOT SAVED: the check passed, but it could not be recorded, so your progress is unchanged and the next lesson stays locked/);
    assert.match(flat, /Checks, watch, the playground and hints still work/);
    assert.doesNotMatch(flat, /is now open/);
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
  assert.equal(course.session.status(lesson).state === 'passed', false);
});

test('a reset whose backup cannot be written says why and leaves the file as it was', async () => {
  course = testCourse();
  const lesson = findLesson('1')!;
  writeFileSync(course.session.fileOf(lesson), '// my work\n');
  rmSync(course.session.workspace.backupsDir, { recursive: true, force: true });
  writeFileSync(course.session.workspace.backupsDir, 'not a folder');
  const r = renderAt(<App session={course.session} openSession={() => course!.session} resources={course.resources} cwd={course.dir} lesson={1} />, { columns: 100, rows: 40 });
  await waitForFrame(r, 'r reset');
  r.stdin.write('r');
  await waitForFrame(r, 'Put the starter back');
  r.stdin.write('y');
  const frame = (await waitForFrame(r, 'was not reset')).replace(/\s+/g, ' ');
  assert.match(frame, /was not reset: Could not .*\((EEXIST|ENOTDIR)\)/);
  assert.match(frame, /Your file is as it was/);
  assert.equal(readFileSync(course.session.fileOf(lesson), 'utf8'), '// my work\n');
});
