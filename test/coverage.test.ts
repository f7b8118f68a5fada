// Every route, form and table of a lesson's app, on both tracks, is checked: a fix that repairs one route and
// leaves another must fail, so the check must go through every route the starter declares,
// submit every form its pages show (as a browser does), and read back every table it writes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { match } from 'path-to-regexp';
import { runCheck } from '../src/check/engine.ts';
import type { Lesson } from '../src/check/lesson.ts';
import { seedRun } from '../src/check/scratch.ts';
import { formsOf, type RequestRecord } from '../src/check/visitor.ts';
import { exerciseFile, lessons, lessonsFor, solutionFile } from '../src/lessons/catalogue.ts';
import { findPython } from '../src/runtime/python/find.ts';
import { flaskAvailability } from './helpers/flask.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const lessonsDir = path.join(here, '..', 'src', 'lessons');

/**
 * Routes, forms and tables a lesson's check does not cover yet, by lesson number. Each entry is
 * a gap to close in that lesson's check, not an exemption: the test also fails when a listed gap
 * is in fact covered, so the list only ever shrinks.
 */
const KNOWN_GAPS: Readonly<Record<number, readonly string[]>> = {};

interface Route {
  readonly method: string;
  readonly path: string;
}

async function routesOf(lesson: Lesson, appFile: string): Promise<Route[]> {
  const run = await seedRun(lesson);
  try {
    const [program, lister] = appFile.endsWith('.py')
      ? [(await findPython()).executable, path.join(here, 'helpers', 'routes-of.py')]
      : [process.execPath, path.join(here, 'helpers', 'routes-of.mjs')];
    const out = spawnSync(program, [lister, appFile], {
      env: { ...process.env, ...run.env },
      cwd: run.dir,
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(out.status, 0, `listing the routes of ${appFile}: ${out.stderr}`);
    return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as Route[];
  } finally {
    await run.remove();
  }
}

/** The forms the starter's pages show a visitor who just arrived. */
async function formsOfPages(lesson: Lesson, routes: readonly Route[]): Promise<Route[]> {
  const pages = routes.filter((r) => r.method === 'GET' && !r.path.includes(':') && !r.path.startsWith('/api'));
  const found: Route[] = [];
  const probe: Lesson = {
    ...lesson,
    steps: [
      {
        title: 'read the pages',
        async run(ctx) {
          for (const page of pages) {
            const reply = await ctx.visitor('reader').page(page.path);
            for (const form of await formsOf(reply.text)) {
              const action = new URL(form.action || page.path, `http://app${page.path}`).pathname;
              found.push({ method: form.method, path: action });
            }
          }
        },
      },
    ],
  };
  await runCheck(probe, { appFile: exerciseFile(lesson), workers: 1 });
  return found;
}

/** Tables the starter writes: every INSERT/UPDATE/DELETE/REPLACE target in its source. */
function tablesWritten(appFile: string): string[] {
  const source = readFileSync(appFile, 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+([A-Za-z_][A-Za-z0-9_]*)/gi)) {
    names.add(m[1]!.toLowerCase());
  }
  return [...names];
}

/** The lesson's check source (its folder's TypeScript and the shared helpers it imports). */
function checkSource(lesson: Lesson): string {
  const dir = path.join(lessonsDir, lesson.slug);
  const files = spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.split('\n').filter((f) => f.endsWith('.ts'));
  let text = files.map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
  for (const m of text.matchAll(/from '\.\.\/([a-z-]+)\.ts'/g)) text += readFileSync(path.join(lessonsDir, `${m[1]}.ts`), 'utf8');
  return text;
}

const covered = (records: readonly RequestRecord[], route: Route, kind?: RequestRecord['kind']) => {
  const test = match(route.path);
  return records.some((r) => r.method === route.method && test(r.path.split('?')[0]!) !== false && (kind === undefined || r.kind === kind));
};

const { skip: noFlask } = await flaskAvailability({ database: true });
const tracks = [
  ...lessons.map((lesson) => ({ lesson, name: `lesson ${lesson.number}`, skip: undefined })),
  ...lessonsFor('flask').map((lesson) => ({ lesson, name: `Flask lesson ${lesson.number}`, skip: noFlask })),
];

for (const { lesson, name, skip } of tracks) {
  describe(`${name}'s check covers its app`, { skip }, () => {
    test('every route of the starter, every form of its pages, every table it writes', async () => {
      const gaps = new Set<string>();
      const routes = await routesOf(lesson, exerciseFile(lesson));
      assert.ok(routes.length > 0, 'the starter declares routes');
      const records: RequestRecord[] = [];
      const result = await runCheck(lesson, {
        appFile: solutionFile(lesson),
        onEvent: (event) => {
          if (event.type === 'request') records.push(event.record);
        },
      });
      assert.ok(result.passed, 'the reference fix passes');
      for (const route of routes) if (!covered(records, route)) gaps.add(`route ${route.method} ${route.path}`);
      for (const form of await formsOfPages(lesson, routes)) {
        if (!covered(records, form, 'form')) gaps.add(`form ${form.method} ${form.path}`);
      }
      const source = checkSource(lesson);
      for (const table of tablesWritten(exerciseFile(lesson))) {
        if (!new RegExp(`\\b(FROM|JOIN)\\s+${table}\\b`, 'i').test(source)) gaps.add(`table ${table}`);
      }
      const known = [...(KNOWN_GAPS[lesson.number] ?? [])].sort();
      const found = [...gaps].sort();
      assert.deepEqual(found, known, `uncovered: ${found.join('; ') || 'none'}`);
    });
  });
}
