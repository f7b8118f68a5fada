// The course checks itself, one lesson per test file (test/lessons/NN.test.ts and, on the Flask
// track, flask-NN.test.ts, so that the runner takes two lessons at a time): every starter fails,
// every reference fix passes, every right-fix fixture passes, every wrong-fix fixture fails at the
// step its header names, and verdicts do not change with the routing. The Flask track's are
// skipped (saying so) without a Python that runs them, except under CI=true.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCheck, type CheckResult } from '../../src/check/engine.ts';
import { exerciseFile, lessonsFor, solutionFile } from '../../src/lessons/catalogue.ts';
import type { AppTrack, Lesson } from '../../src/lessons/types.ts';
import { variation } from '../../scripts/variations.ts';
import { flaskAvailability } from './flask.ts';
import { starterFailsAt } from './starters.ts';

const fixturesRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Where a track's fixtures live, which files are apps, and how their first line says what to expect. */
const TRACKS = {
  node: { root: fixturesRoot, app: /\.m?js$/, comment: '//' },
  flask: { root: path.join(fixturesRoot, 'flask'), app: /\.py$/, comment: '#' },
} as const;

interface Fixture {
  readonly file: string;
  readonly name: string;
  /** undefined: must pass; otherwise the title (or its start) of the step it must fail at. */
  readonly failsAt?: string;
}

/**
 * A fixture is one app file, or a folder holding the lesson's app file and its neighbours (a
 * jobs.js or jobs.py the host runs beside the app, say); the app file's first line says what to
 * expect: `// expect: pass` or `// expect: fail at "<step title>"` (`#` in Python).
 */
export function fixturesOf(lesson: Lesson, track: AppTrack = 'node'): Fixture[] {
  const { root, app, comment } = TRACKS[track];
  const dir = path.join(root, lesson.slug);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => (entry.isFile() && app.test(entry.name)) || (entry.isDirectory() && existsSync(path.join(dir, entry.name, lesson.file))))
    .map((entry) => {
      const name = entry.name;
      const file = entry.isDirectory() ? path.join(dir, name, lesson.file) : path.join(dir, name);
      const header = readFileSync(file, 'utf8').split('\n')[0] ?? '';
      const pass = header.startsWith(`${comment} expect: pass`);
      const failMatch = header.startsWith(`${comment} expect: fail at "`) ? /fail at "(.+)"/.exec(header) : null;
      if (!pass && !failMatch) throw new Error(`${file}: the first line must be ${comment} expect: pass, or ${comment} expect: fail at "<step title>"`);
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


/** The whole self-check of lesson `number` on `track`. */
export async function lessonSuite(number: number, track: AppTrack = 'node'): Promise<void> {
  const found = lessonsFor(track).find((l) => l.number === number);
  if (!found) throw new Error(`no lesson ${number} on the ${track} track`);
  const lesson: Lesson = found;
  const fixtures = fixturesOf(lesson, track);
  const skip = track === 'flask' ? (await flaskAvailability({ database: Boolean(lesson.database) })).skip : undefined;
  describe(`${track === 'flask' ? 'Flask lesson' : 'lesson'} ${lesson.number}: ${lesson.title}`, { skip }, () => {
    test('has its text, 2-3 hints, a why note, a starter and a reference fix', () => {
      assert.ok(lesson.text().length > 400, 'lesson text');
      assert.ok(lesson.why().length > 200, 'why it works');
      assert.ok(lesson.hints.length >= 2 && lesson.hints.length <= 4, 'hints');
      assert.ok(existsSync(exerciseFile(lesson)), 'starter');
      assert.ok(existsSync(solutionFile(lesson)), 'reference fix');
      assert.notEqual(readFileSync(exerciseFile(lesson), 'utf8'), readFileSync(solutionFile(lesson), 'utf8'));
      assert.ok(fixtures.some((f) => f.failsAt), 'at least one wrong-fix fixture');
      assert.ok(fixtures.some((f) => !f.failsAt), 'at least one other right fix');
    });

    test('the starter fails, with a diagnosis', async () => {
      const result = await runCheck(lesson, { appFile: exerciseFile(lesson) });
      const failsAt = starterFailsAt[lesson.number];
      assert.ok(failsAt, `starterFailsAt names no step for lesson ${lesson.number}'s starter`);
      assertFailsAt(result, failsAt, 'the starter');
      const failed = result.steps.find((s) => !s.passed)!;
      assert.ok(failed.diagnosis, 'the failing step explains itself in the lesson\'s terms');
      assert.ok(failed.requests.length > 0, 'the failing step shows its requests');
      assert.ok(failed.requests.every((r) => r.worker !== null && r.worker >= 1 && r.worker <= result.workers), 'every request names its worker');
    });

    test('the reference fix passes', async () => {
      const result = await runCheck(lesson, { appFile: solutionFile(lesson) });
      assert.ok(result.passed, firstFailure(result));
      assert.ok(result.steps.every((s) => s.passed));
    });

    // Each fixture is judged once, on a set-up of its own: the lesson's own routing and worker
    // count for the first, then the other routing policies and one more worker in turn, with a
    // fresh seed every time (printed on failure, to replay). The flake gate (npm run flake) runs
    // every app on all of them, many times.
    fixtures.forEach((fixture, index) => {
      const { policy, workers } = variation(lesson, index % 4);
      const setUp = `${workers} worker${workers === 1 ? '' : 's'}, ${policy}`;
      test(`${fixture.failsAt ? 'wrong' : 'right'} fix ${fixture.name} ${fixture.failsAt ? `fails at "${fixture.failsAt}"` : 'passes'} (${setUp})`, async () => {
        const result = await runCheck(lesson, { appFile: fixture.file, policy, workers });
        const what = `${fixture.name} (${setUp}, --seed ${result.seed})`;
        if (fixture.failsAt) assertFailsAt(result, fixture.failsAt, what);
        else assert.ok(result.passed, `${what}: ${firstFailure(result)}`);
      });
    });

    // The starter and the reference fix once more, on another set-up (which one takes turns
    // from lesson to lesson): the tests above ran them on the lesson's own.
    test('the starter and the reference fix keep their verdicts with other routing, seeds and worker counts', { timeout: 30_000 * 2 }, async () => {
      const options = variation(lesson, 1 + (lesson.number % 3));
      const starter = await runCheck(lesson, { appFile: exerciseFile(lesson), ...options });
      assertFailsAt(starter, starterFailsAt[lesson.number]!, `the starter with ${JSON.stringify(options)}`);
      const reference = await runCheck(lesson, { appFile: solutionFile(lesson), ...options });
      assert.ok(reference.passed, `the reference fix with ${JSON.stringify(options)}: ${firstFailure(reference)}`);
    });

    if (lesson.worksLocally) {
      test('the starter passes with one worker: the "works locally" moment', async () => {
        const result = await runCheck(lesson, { appFile: exerciseFile(lesson), workers: 1 });
        assert.ok(result.passed, firstFailure(result));
        const many = await runCheck(lesson, { appFile: exerciseFile(lesson) });
        assert.equal(many.passed, false);
      });
    }
  });
}
