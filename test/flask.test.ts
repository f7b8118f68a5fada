// The Flask track checks itself with the lessons' own steps: every Flask starter fails, every
// reference fix passes, every right fixture passes and every wrong one fails at the step its
// header names; verdicts do not change with the routing. Skipped (saying so) without Flask.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCheck, type CheckResult } from '../src/check/engine.ts';
import { exerciseFile, lessonsFor, solutionFile } from '../src/lessons/catalogue.ts';
import type { Lesson } from '../src/lessons/types.ts';
import { variation } from '../scripts/variations.ts';
import { flaskAvailability } from './helpers/flask.ts';
import { starterFailsAt } from './helpers/starters.ts';

const fixturesRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'flask');
const { skip } = await flaskAvailability();

interface Fixture {
  readonly file: string;
  readonly name: string;
  readonly failsAt?: string;
}

/** A Flask fixture is one .py app whose first line says what to expect. */
function fixturesOf(lesson: Lesson): Fixture[] {
  const dir = path.join(fixturesRoot, lesson.slug);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.py'))
    .map((name) => {
      const file = path.join(dir, name);
      const header = readFileSync(file, 'utf8').split('\n')[0] ?? '';
      const pass = /^# expect: pass\b/.test(header);
      const failMatch = /^# expect: fail at "(.+)"/.exec(header);
      if (!pass && !failMatch) throw new Error(`${file}: the first line must be # expect: pass, or # expect: fail at "<step title>"`);
      return { file, name, failsAt: failMatch?.[1] };
    });
}

function firstFailure(result: CheckResult): string {
  if (result.problem) return `the app did not start: ${result.problem.message}`;
  const step = result.steps.find((s) => !s.passed);
  return step ? `${step.title}: ${step.message}` : 'no failing step';
}

function assertFailsAt(result: CheckResult, failsAt: string, what: string): void {
  assert.equal(result.passed, false, `${what} should fail the check`);
  assert.equal(result.problem, undefined, `${what} should start; ${firstFailure(result)}`);
  const failed = result.steps.find((s) => !s.passed && !s.skipped);
  assert.ok(failed, `${what}: some step should fail`);
  assert.ok(failed.title.startsWith(failsAt), `${what} should fail at "${failsAt}", failed at "${failed.title}": ${failed.message}`);
  assert.ok(failed.message?.startsWith('Expected '), `a failure says what was expected: ${failed.message}`);
}

const flaskLessons = lessonsFor('flask');

test('the Flask track has lessons 1 to 3 at least, each with its own app.py, text and hints', { skip }, () => {
  assert.deepEqual(flaskLessons.slice(0, 3).map((l) => l.number), [1, 2, 3]);
  for (const lesson of flaskLessons) {
    assert.equal(lesson.file, 'app.py');
    assert.match(lesson.text(), /app\.py/);
    assert.doesNotMatch(lesson.text(), /app\.js/);
    assert.ok(lesson.why().length > 200);
    assert.ok(lesson.hints.length >= 2 && lesson.hints.length <= 4);
    assert.ok(existsSync(exerciseFile(lesson)) && existsSync(solutionFile(lesson)));
    const fixtures = fixturesOf(lesson);
    assert.ok(fixtures.some((f) => f.failsAt) && fixtures.some((f) => !f.failsAt), `${lesson.slug}: right and wrong fixtures`);
  }
});

for (const lesson of flaskLessons) {
  describe(`Flask lesson ${lesson.number}: ${lesson.title}`, { skip }, () => {
    test("the starter fails at the Node starter's step, with a diagnosis and every request on a named worker", async () => {
      const result = await runCheck(lesson, { appFile: exerciseFile(lesson) });
      assertFailsAt(result, starterFailsAt[lesson.number] ?? '(no step named in test/helpers/starters.ts)', 'the starter');
      const failed = result.steps.find((s) => !s.passed)!;
      assert.ok(failed.diagnosis, 'the failing step explains itself');
      assert.ok(failed.requests.length > 0);
      assert.ok(failed.requests.every((r) => r.worker !== null && r.worker >= 1 && r.worker <= result.workers));
    });

    test('the reference fix passes', async () => {
      const result = await runCheck(lesson, { appFile: solutionFile(lesson) });
      assert.ok(result.passed, firstFailure(result));
    });

    for (const fixture of fixturesOf(lesson)) {
      test(`${fixture.failsAt ? 'wrong' : 'right'} fix ${fixture.name} ${fixture.failsAt ? `fails at "${fixture.failsAt}"` : 'passes'}`, async () => {
        const result = await runCheck(lesson, { appFile: fixture.file });
        if (fixture.failsAt) assertFailsAt(result, fixture.failsAt, fixture.name);
        else assert.ok(result.passed, `${fixture.name}: ${firstFailure(result)}`);
      });
    }

    test('verdicts stay the same with other routing, seeds and worker counts', async () => {
      const fixtures = fixturesOf(lesson);
      const apps = [exerciseFile(lesson), solutionFile(lesson), ...fixtures.map((f) => f.file)];
      for (const run of [1, 2]) {
        const options = variation(lesson, run);
        for (const appFile of apps) {
          const expected = appFile === solutionFile(lesson) || fixtures.some((f) => f.file === appFile && !f.failsAt);
          const result = await runCheck(lesson, { appFile, ...options });
          assert.equal(result.passed, expected, `${path.basename(appFile)} with ${JSON.stringify(options)}: ${firstFailure(result)}`);
        }
      }
    });

    if (lesson.worksLocally) {
      test('the starter passes with one worker: the "works locally" moment', async () => {
        const result = await runCheck(lesson, { appFile: exerciseFile(lesson), workers: 1 });
        assert.ok(result.passed, firstFailure(result));
      });
    }
  });
}
