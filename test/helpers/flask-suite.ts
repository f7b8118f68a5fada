// The Flask track checks itself with the lessons' own steps, one lesson per test file
// (test/lessons/flask-NN.test.ts): every Flask starter fails, every reference fix passes, every
// right fixture passes and every wrong one fails at the step its header names; verdicts do not
// change with the routing. Skipped (saying so) without Flask.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCheck, type CheckResult } from '../../src/check/engine.ts';
import { exerciseFile, lessonsFor, solutionFile } from '../../src/lessons/catalogue.ts';
import type { Lesson } from '../../src/lessons/types.ts';
import { variation } from '../../scripts/variations.ts';
import { flaskAvailability } from './flask.ts';
import { starterFailsAt } from './starters.ts';

const fixturesRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'flask');
const { skip } = await flaskAvailability();
const flaskLessons = lessonsFor('flask');

interface Fixture {
  readonly file: string;
  readonly name: string;
  readonly failsAt?: string;
}

/**
 * A Flask fixture is one .py app, or a folder holding the lesson's app file and its neighbours (a
 * jobs.py the host runs beside the app); the app file's first line says what to expect.
 */
export function flaskFixturesOf(lesson: Lesson): Fixture[] {
  const dir = path.join(fixturesRoot, lesson.slug);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => (entry.isFile() && entry.name.endsWith('.py')) || (entry.isDirectory() && existsSync(path.join(dir, entry.name, lesson.file))))
    .map((entry) => {
      const name = entry.name;
      const file = entry.isDirectory() ? path.join(dir, name, lesson.file) : path.join(dir, name);
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

/** The whole self-check of lesson `number` on the Flask track. */
export async function flaskSuite(number: number): Promise<void> {
  const lesson = flaskLessons.find((l) => l.number === number);
  if (!lesson) throw new Error(`no lesson ${number} on the Flask track`);
  const skipped = lesson.database ? flaskAvailability({ database: true }).then((a) => a.skip) : Promise.resolve(skip);
  describe(`Flask lesson ${lesson.number}: ${lesson.title}`, { skip: await skipped }, () => {
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

    for (const fixture of flaskFixturesOf(lesson)) {
      test(`${fixture.failsAt ? 'wrong' : 'right'} fix ${fixture.name} ${fixture.failsAt ? `fails at "${fixture.failsAt}"` : 'passes'}`, async () => {
        const result = await runCheck(lesson, { appFile: fixture.file });
        if (fixture.failsAt) assertFailsAt(result, fixture.failsAt, fixture.name);
        else assert.ok(result.passed, `${fixture.name}: ${firstFailure(result)}`);
      });
    }

    // A run of every app: longer than the suite's per-test limit on a loaded machine, so a limit
    // of its own, in proportion to the apps it checks
    const fixtures = flaskFixturesOf(lesson);
    test('verdicts stay the same with other routing, seeds and worker counts', { timeout: 30_000 * (fixtures.length + 2) }, async () => {
      const apps = [exerciseFile(lesson), solutionFile(lesson), ...fixtures.map((f) => f.file)];
      // One varied run per app here (the flake gate, npm run flake, runs many): another routing
      // policy, seed and worker count, which of them taking turns from lesson to lesson.
      const options = variation(lesson, 1 + (lesson.number % 3));
      for (const appFile of apps) {
        const expected: boolean = appFile === solutionFile(lesson) || fixtures.some((f) => f.file === appFile && !f.failsAt);
        const result = await runCheck(lesson, { appFile, ...options });
        assert.equal(result.passed, expected, `${path.basename(appFile)} with ${JSON.stringify(options)}: ${firstFailure(result)}`);
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
