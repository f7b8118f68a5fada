// The course session the screens use: progress, hints, reset and the solution diff, on a real
// workspace in a temp folder.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { CheckResult } from '../../src/check/engine.ts';
import { exerciseFile, findLesson, solutionFile } from '../../src/lessons/catalogue.ts';
import { diffLines } from '../../src/ui/diff-lines.ts';
import { testCourse, type TestCourse } from './helpers.tsx';

const lesson1 = findLesson('1')!;
const lesson2 = findLesson('2')!;

const run = (passed: boolean, lesson = lesson1): CheckResult => ({
  lesson: lesson.slug,
  number: lesson.number,
  passed,
  workers: lesson.workers,
  policy: 'round-robin',
  seed: 1,
  durationMs: 100,
  steps: [{ title: 'step one', passed, message: passed ? undefined : 'Expected a, got b.', requests: [] }],
});

describe('CourseSession', () => {
  let course: TestCourse;
  beforeEach(() => {
    course = testCourse();
  });
  afterEach(() => course.cleanup());

  test('a first pass is recorded as such and opens the next lesson; a second pass opens nothing', () => {
    // Given lesson 2 locked
    assert.equal(course.session.status(lesson2).state, 'locked');
    // When lesson 1 fails, then passes, then passes again
    const failed = course.session.recordCheck(lesson1, run(false));
    const first = course.session.recordCheck(lesson1, run(true));
    const again = course.session.recordCheck(lesson1, run(true));
    // Then only the first pass is a first pass, and it unlocked lesson 2
    assert.deepEqual([failed.firstPass, failed.unlocked], [false, undefined]);
    assert.deepEqual([first.firstPass, first.unlocked?.number], [true, 2]);
    assert.deepEqual([again.firstPass, again.unlocked], [false, undefined]);
    assert.equal(course.session.status(lesson2).state, 'current');
    assert.equal(course.session.status(lesson1).attempts, 3);
  });

  test('hints come one at a time, are remembered, and stop at the last', () => {
    const shown = [1, 2, 3, 4].map(() => course.session.revealHint(lesson1));
    assert.deepEqual(shown, [1, 2, 3, 3]);
    assert.equal(course.session.hintsShown(lesson1), 3);
  });

  test('reset puts the starter back and keeps the learner\'s version', () => {
    const file = course.session.fileOf(lesson1);
    writeFileSync(file, '// my attempt\n');
    const backups = course.session.reset(lesson1);
    assert.equal(readFileSync(file, 'utf8'), readFileSync(exerciseFile(lesson1), 'utf8'));
    assert.equal(backups.length, 1);
    assert.ok(existsSync(backups[0]));
    assert.equal(readFileSync(backups[0], 'utf8'), '// my attempt\n');
    assert.deepEqual(course.session.reset(lesson1), [], 'an untouched starter needs no backup');
  });

  test('the solution is a diff against the learner\'s file, empty once they match', () => {
    const lines = course.session.solutionDiff(lesson1);
    assert.ok(lines.some((l) => l.kind === 'add' && l.text.includes('selectProducts.all()')));
    assert.ok(lines.some((l) => l.kind === 'remove' && l.text.includes("const products = db.prepare")));
    writeFileSync(course.session.fileOf(lesson1), readFileSync(solutionFile(lesson1), 'utf8'));
    assert.deepEqual(course.session.solutionDiff(lesson1), []);
  });

  test('the file to edit is shown relative to where the course started', () => {
    assert.equal(course.session.displayPath(lesson1), 'global-state-course/01-frozen-at-startup/app.js');
  });
});

describe('diffLines', () => {
  test('hunks, additions, removals and context, without the "no newline" marker', () => {
    const lines = diffLines('a\nb\nc', 'a\nB\nc\nd');
    assert.deepEqual(
      lines.map((l) => `${l.kind}:${l.text}`),
      ['hunk:@@ your line 1, reference line 1 @@', 'context:a', 'remove:b', 'remove:c', 'add:B', 'add:c', 'add:d'],
    );
  });
});
