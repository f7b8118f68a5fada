// The Flask track as a whole: each lesson on it has its own app.py, text, hints and fixtures, and
// a self-check file of its own (test/lessons/flask-NN.test.ts, over test/helpers/lesson-suite.ts).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exerciseFile, lessonsFor, solutionFile } from '../src/lessons/catalogue.ts';
import { flaskAvailability } from './helpers/flask.ts';
import { fixturesOf } from './helpers/lesson-suite.ts';

const { skip } = await flaskAvailability();
const flaskLessons = lessonsFor('flask');
const here = path.dirname(fileURLToPath(import.meta.url));

test('the Flask track has lessons 1 to 3 at least, each with its own app.py, text and hints', { skip }, () => {
  assert.deepEqual(flaskLessons.slice(0, 3).map((l) => l.number), [1, 2, 3]);
  for (const lesson of flaskLessons) {
    assert.equal(lesson.file, 'app.py');
    assert.match(lesson.text(), /app\.py/);
    assert.doesNotMatch(lesson.text(), /app\.js/);
    assert.ok(lesson.why().length > 200);
    assert.ok(lesson.hints.length >= 2 && lesson.hints.length <= 4);
    assert.ok(existsSync(exerciseFile(lesson)) && existsSync(solutionFile(lesson)));
    const fixtures = fixturesOf(lesson, 'flask');
    assert.ok(fixtures.some((f) => f.failsAt) && fixtures.some((f) => !f.failsAt), `${lesson.slug}: right and wrong fixtures`);
  }
});

test('every lesson on the Flask track has its self-check file', () => {
  for (const lesson of flaskLessons) {
    const file = path.join(here, 'lessons', `flask-${String(lesson.number).padStart(2, '0')}.test.ts`);
    assert.ok(existsSync(file), `${path.relative(here, file)} runs lesson ${lesson.number}'s Flask self-check`);
  }
});
