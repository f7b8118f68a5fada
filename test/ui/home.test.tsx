// The first-run offer and the home screen, driven by keys through the whole App.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { cleanup } from 'ink-testing-library';
import { findLesson } from '../../src/lessons/catalogue.ts';
import App from '../../src/ui/App.tsx';
import { CourseSession } from '../../src/ui/course.ts';
import { Resources } from '../../src/ui/resources.ts';
import { isWorkspace, type Workspace } from '../../src/workspace.ts';
import { KEY, renderAt, testCourse, waitForFrame, type TestCourse } from './helpers.tsx';

describe('first run', () => {
  let dir: string;
  const sessions: CourseSession[] = [];
  const open = (workspace: Workspace) => {
    const session = CourseSession.open(workspace, dir);
    sessions.push(session);
    return session;
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-first-run-'));
  });
  afterEach(() => {
    cleanup();
    for (const s of sessions.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('offers ./global-state-course, creates it on Enter, and goes on to the home screen', async () => {
    // Given no workspace
    const r = renderAt(<App openSession={open} resources={new Resources()} cwd={dir} />);
    await waitForFrame(r, `Create it in ${path.join(dir, 'global-state-course')}?`);
    // When the learner accepts
    r.stdin.write(KEY.enter);
    // Then the workspace exists and the home screen shows lesson 1 as current
    const home = await waitForFrame(r, 'Core track');
    assert.ok(isWorkspace(path.join(dir, 'global-state-course')));
    assert.match(home, /1\. Frozen at startup\s+current/);
    assert.match(home, /0 of \d+ lessons passed/);
  });

  test('another folder can be typed in', async () => {
    const r = renderAt(<App openSession={open} resources={new Resources()} cwd={dir} />);
    await waitForFrame(r, 'another folder');
    r.stdin.write('o');
    await waitForFrame(r, 'Folder:');
    for (let i = 0; i < 'global-state-course'.length; i++) r.stdin.write('\u007F');
    await waitForFrame(r, /Folder:\s*$/m);
    r.stdin.write('my-course');
    await waitForFrame(r, 'my-course');
    r.stdin.write(KEY.enter);
    await waitForFrame(r, 'Core track');
    assert.ok(isWorkspace(path.join(dir, 'my-course')));
    assert.ok(!existsSync(path.join(dir, 'global-state-course')));
  });

  test('a folder that cannot be used says why and stays on the offer', async () => {
    const r = renderAt(<App openSession={open} resources={new Resources()} cwd={dir} />);
    await waitForFrame(r, 'another folder');
    // A non-empty folder that is not a workspace.
    rmSync(path.join(dir, 'global-state-course'), { force: true, recursive: true });
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'global-state-course'));
    writeFileSync(path.join(dir, 'global-state-course', 'notes.txt'), 'mine');
    r.stdin.write(KEY.enter);
    const frame = await waitForFrame(r, 'is not empty');
    assert.match(frame, /Create it in/);
  });
});

describe('home', () => {
  let course: TestCourse;
  beforeEach(() => {
    course = testCourse();
  });
  afterEach(async () => {
    cleanup();
    await course.cleanup();
  });
  const app = () => renderAt(<App session={course.session} openSession={() => course.session} resources={course.resources} cwd={course.dir} />);

  test('lists the lessons by track with their state, and opens the highlighted one on Enter', async () => {
    const r = app();
    const home = await waitForFrame(r, 'Core track');
    assert.match(home, /❯ ▶\s+1\. Frozen at startup\s+current/);
    assert.match(home, /·\s+2\. Everyone's list\s+locked/);
    r.stdin.write(KEY.enter);
    await waitForFrame(r, 'Lesson 1 · Frozen at startup');
  });

  test('passed lessons are ticked and the next is current', async () => {
    course.session.recordCheck(findLesson('1')!, { lesson: '01-frozen-at-startup', number: 1, passed: true, workers: 3, policy: 'round-robin', seed: 1, durationMs: 1, steps: [] });
    const home = await waitForFrame(app(), 'Core track');
    assert.match(home, /✓\s+1\. Frozen at startup\s+passed · 1 attempt/);
    assert.match(home, /▶\s+2\. Everyone's list\s+current/);
    assert.match(home, /1 of \d+ lessons passed/);
  });

  test('a locked lesson opens only after a confirm', async () => {
    const r = app();
    await waitForFrame(r, 'Core track');
    // When the instructor jumps to lesson 3 with its number key
    r.stdin.write('3');
    await waitForFrame(r, 'Lesson 3 is locked until lesson 2 passes. Open it anyway? (y/n)');
    // and says no, the home screen stays
    r.stdin.write('n');
    await waitForFrame(r, (f) => !f.includes('Open it anyway'));
    assert.match(r.lastFrame()!, /Core track/);
    // and yes opens it
    r.stdin.write('3');
    await waitForFrame(r, 'Open it anyway');
    r.stdin.write('y');
    await waitForFrame(r, 'Lesson 3 · Two workers, two lists');
  });

  test('a number key opens an unlocked lesson at once, without a confirm', async () => {
    // Given lesson 1 passed, so lesson 2 is open
    course.session.recordCheck(findLesson('1')!, { lesson: '01-frozen-at-startup', number: 1, passed: true, workers: 3, policy: 'round-robin', seed: 1, durationMs: 1, steps: [] });
    const r = app();
    await waitForFrame(r, /▶\s+2\. Everyone's list\s+current/);
    // When the learner presses 2
    r.stdin.write('2');
    // Then lesson 2 opens, and nothing asked first
    await waitForFrame(r, "Lesson 2 · Everyone's list");
    assert.ok(!r.frames.some((f) => f.includes('Open it anyway')), 'no confirm for an unlocked lesson');
  });

  test('b goes back from a lesson to the home screen', async () => {
    const r = app();
    await waitForFrame(r, 'Core track');
    r.stdin.write(KEY.enter);
    await waitForFrame(r, 'The Corner Shop sells');
    r.stdin.write('b');
    const home = await waitForFrame(r, 'Core track');
    assert.match(home, /❯ ▶\s+1\. Frozen at startup\s+current/);
    assert.doesNotMatch(home, /Lesson 1 · Frozen at startup/);
  });

  test('arrow keys move the highlight, and the summary follows it', async () => {
    const r = app();
    await waitForFrame(r, 'Core track');
    r.stdin.write(KEY.down);
    const frame = await waitForFrame(r, /❯ ·\s+2\. Everyone's list/);
    assert.match(frame, new RegExp(findLesson('2')!.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').slice(0, 30)));
  });

  test('q quits through the course (every worker is stopped first)', async () => {
    const r = app();
    await waitForFrame(r, 'Core track');
    let stopped = false;
    course.resources.add(async () => {
      stopped = true;
    });
    r.stdin.write('q');
    await waitForFrame(r, () => stopped);
    assert.equal(course.resources.size, 0);
  });
});
