// npm run flake: the flake gate. Runs every lesson's starter, reference fix and fixtures many
// times under different routing seeds, policies and worker counts, and fails on any verdict
// (passed or failed, and at which step) that differs from the first run of the same app.
//
//   npm run flake                     30 runs of every app of every lesson
//   npm run flake -- --runs 5 --lessons 1,3
//   npm run flake -- --track flask    the Flask track's apps (test/fixtures/flask)
//   npm run flake -- --since f86c837  the starters, the reference fixes, and the fixtures added or
//                                     changed since that commit (a gate for new fixtures)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runCheck, type CheckResult } from '../src/check/engine.ts';
import { exerciseFile, lessonsFor, solutionFile } from '../src/lessons/catalogue.ts';
import type { Lesson } from '../src/lessons/types.ts';
import { variation } from './variations.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    lessons: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    track: { type: 'string', default: 'node' },
    since: { type: 'string' },
  },
});
const track = values.track === 'flask' ? 'flask' : 'node';
const lessons = lessonsFor(track);
const runs = Number(values.runs);
const concurrency = Number(values.concurrency);
const chosen = values.lessons ? values.lessons.split(',').map(Number) : lessons.map((l) => l.number);
const fixturesRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', ...(track === 'flask' ? ['flask'] : []));
/** A fixture's first line says what to expect: `// expect: ...` in JavaScript, `# expect: ...` in Python. */
const [fixtureExtension, expectHeader] = track === 'flask' ? ['.py', /^# expect: /] : ['.js', /^\/\/ expect: /];
/** With --since: the fixture files added or changed since that commit (absolute paths). */
const changed = values.since ? changedSince(values.since) : undefined;

function changedSince(ref: string): Set<string> {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
  const names = execFileSync('git', ['diff', '--name-only', '--diff-filter=AMR', ref, '--', 'test/fixtures'], { cwd: root, encoding: 'utf8' });
  return new Set(names.split('\n').filter(Boolean).map((name) => path.resolve(root, name)));
}

interface Job {
  readonly lesson: Lesson;
  readonly app: string;
  readonly label: string;
  readonly run: number;
}

function verdict(result: CheckResult): string {
  if (result.passed) return 'passed';
  if (result.problem) return `failed: the app did not start (${result.problem.kind})`;
  return `failed at "${result.steps.find((s) => !s.passed)?.title}"`;
}

function appsOf(lesson: Lesson): { app: string; label: string }[] {
  const apps = [
    { app: exerciseFile(lesson), label: 'starter' },
    { app: solutionFile(lesson), label: 'reference fix' },
  ];
  const dir = path.join(fixturesRoot, lesson.slug);
  if (existsSync(dir)) {
    // A fixture is one file, or a folder holding the app (and the lesson's other files, jobs.js).
    const appName = `app${fixtureExtension}`;
    for (const name of readdirSync(dir).sort()) {
      const app = name.endsWith(fixtureExtension) ? path.join(dir, name) : path.join(dir, name, appName);
      if (changed && ![...changed].some((file) => file === app || file.startsWith(path.join(dir, name) + path.sep))) continue;
      if (existsSync(app) && statSync(app).isFile() && expectHeader.test(readFileSync(app, 'utf8'))) apps.push({ app, label: name });
    }
  }
  return apps;
}

const jobs: Job[] = [];
for (const lesson of lessons.filter((l) => chosen.includes(l.number))) {
  for (const { app, label } of appsOf(lesson)) {
    for (let run = 0; run < runs; run++) jobs.push({ lesson, app, label, run });
  }
}

const first = new Map<string, string>();
const differing: string[] = [];
/** Runs whose verdict is not what the app is known to deserve (its fixture's `// expect:` line; a reference fix passes). */
const wrong: string[] = [];

function expectationOf(app: string): string {
  if (lessons.some((l) => solutionFile(l) === app)) return 'pass';
  if (lessons.some((l) => exerciseFile(l) === app)) return 'fail';
  return new RegExp(`${expectHeader.source}(.*)`).exec(readFileSync(app, 'utf8'))?.[1]?.trim() ?? 'fail';
}

function meetsExpectation(app: string, got: string): boolean {
  const expectation = expectationOf(app);
  if (expectation === 'pass') return got === 'passed';
  const step = /^fail at "(.*)"$/.exec(expectation)?.[1];
  return step === undefined ? got.startsWith('failed') : got.startsWith(`failed at "${step}`);
}
const started = performance.now();
let done = 0;

async function worker(): Promise<void> {
  for (let job = jobs.shift(); job; job = jobs.shift()) {
    const { lesson, app, label, run } = job;
    const options = variation(lesson, run);
    const result = await runCheck(lesson, { appFile: app, ...options });
    const key = `${lesson.slug} · ${label}`;
    const got = verdict(result);
    const expected = first.get(key);
    const where = `run ${run} (${options.workers} workers, ${options.policy}, seed ${options.seed})`;
    if (expected === undefined) first.set(key, got);
    else if (expected !== got) differing.push(`${key}: ${where} ${got}; first run ${expected}`);
    if (!meetsExpectation(app, got)) wrong.push(`${key}: ${where} ${got}; expected ${expectationOf(app)}`);
    done++;
    if (done % 25 === 0) process.stdout.write(`  ${done} runs, ${differing.length} differing\n`);
  }
}

const total = jobs.length;
console.log(`Flake gate: ${total} check runs (${runs} per app), concurrency ${concurrency}`);
await Promise.all(Array.from({ length: concurrency }, worker));
for (const [key, got] of first) console.log(`  ${key.padEnd(72)} ${got}`);
console.log(`\n${differing.length === 0 ? 'No verdict changed' : `${differing.length} verdicts differed`} in ${total} runs (${((performance.now() - started) / 1000).toFixed(0)} s).`);
for (const line of differing) console.log(`  ✗ ${line}`);
console.log(wrong.length === 0 ? 'Every verdict was the one its app deserves.' : `${wrong.length} verdicts were not the one the app deserves:`);
for (const line of wrong) console.log(`  ✗ ${line}`);
process.exitCode = differing.length === 0 && wrong.length === 0 ? 0 : 1;
