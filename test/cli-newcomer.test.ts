// What a newcomer meets on the plain commands: results that cannot be saved, errors as JSON,
// file-system trouble without stack traces, commands found from the folder you are in.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { fileSystemMessage } from '../src/cli/errors.ts';
import { findLesson, solutionFile } from '../src/lessons/catalogue.ts';
import { cli, cliIn, oneJson, scratchWorkspace } from './helpers/cli.ts';

/** Hold the workspace's progress database locked while `use` runs, with a short busy timeout. */
async function whileLocked<T>(ws: string, use: () => Promise<T>): Promise<T> {
  const other = new Database(path.join(ws, '.course', 'progress.db'));
  other.exec('BEGIN EXCLUSIVE');
  process.env.GSC_PROGRESS_TIMEOUT_MS = '100';
  try {
    return await use();
  } finally {
    delete process.env.GSC_PROGRESS_TIMEOUT_MS;
    other.exec('ROLLBACK');
    other.close();
  }
}

const noStackTrace = (text: string) => assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, `no stack trace in:\n${text}`);

describe('a result that cannot be saved', () => {
  test('a passing check that cannot be recorded says so in its last lines, claims no opened lesson, and exits 2', async () => {
    const { ws, done } = await scratchWorkspace();
    try {
      const lesson = findLesson('1')!;
      copyFileSync(solutionFile(lesson), path.join(ws, lesson.slug, lesson.file));
      const run = await whileLocked(ws, () => cli('check', '1', '--workspace', ws));
      assert.equal(run.code, 2, run.out + run.err);
      assert.match(run.out, /PASSED/);
      assert.doesNotMatch(run.out, /is now open/);
      const last = run.out.trimEnd().split('\n').slice(-3).join('\n');
      assert.match(last, /NOT SAVED: this pass could not be recorded, so your progress is unchanged and the next lesson stays locked/);
      assert.match(last, /lock/);
      // Nothing was recorded: lesson 2 is still locked.
      const list = JSON.parse((await cli('list', '--json', '--workspace', ws)).out) as { state: string }[];
      assert.deepEqual(list.slice(0, 2).map((l) => l.state), ['current', 'locked']);
    } finally {
      done();
    }
  });

  test('with --json: one object, saved false, an error field, exit 2', async () => {
    const { ws, done } = await scratchWorkspace();
    try {
      const lesson = findLesson('1')!;
      copyFileSync(solutionFile(lesson), path.join(ws, lesson.slug, lesson.file));
      const run = await whileLocked(ws, () => cli('check', '1', '--json', '--workspace', ws));
      assert.equal(run.code, 2);
      const json = oneJson(run);
      assert.equal(json.passed, true);
      assert.equal(json.saved, false);
      assert.match(String(json.error), /could not be saved/);
    } finally {
      done();
    }
  });

  test('a saved check says saved: true in JSON', async () => {
    const { ws, done } = await scratchWorkspace();
    try {
      const run = await cli('check', '1', '--json', '--workspace', ws);
      assert.equal(run.code, 1);
      assert.equal(oneJson(run).saved, true);
    } finally {
      done();
    }
  });
});

describe('file-system errors are messages, not stack traces', () => {
  test('reset whose backup cannot be written: what failed, why, exit 2, and the file untouched', async () => {
    const { ws, done } = await scratchWorkspace();
    try {
      const file = path.join(ws, '01-frozen-at-startup', 'app.js');
      writeFileSync(file, '// my own work\n');
      const backups = path.join(ws, '.course', 'backups');
      rmSync(backups, { recursive: true });
      writeFileSync(backups, 'a file where the backups folder should be');
      const run = await cli('reset', '1', '--workspace', ws);
      assert.equal(run.code, 2);
      assert.match(run.err, /^Could not .*backups.*\((EEXIST|ENOTDIR)\)/m);
      noStackTrace(run.err);
      assert.equal(readFileSync(file, 'utf8'), '// my own work\n');
    } finally {
      done();
    }
  });

  test('a read-only disk is named as such, with what to do', () => {
    const error = Object.assign(new Error("EROFS: read-only file system, copyfile 'a.js' -> 'b.js'"), { code: 'EROFS', syscall: 'copyfile', path: 'a.js', dest: 'b.js' });
    assert.equal(
      fileSystemMessage(error),
      "Could not copy a.js to b.js: the disk or folder is read-only (EROFS). Check the folder's permissions, or move the workspace to a folder you can write to.",
    );
  });

  test('progress --import of a file that is not there: a message, exit 2', async () => {
    const { ws, root, done } = await scratchWorkspace();
    try {
      const run = await cli('progress', '--import', path.join(root, 'nope.json'), '--workspace', ws);
      assert.equal(run.code, 2);
      assert.match(run.err, /Could not open .*nope\.json: it does not exist \(ENOENT\)/);
      noStackTrace(run.err);
    } finally {
      done();
    }
  });
});

describe('--json is one JSON object with an error field on every error path', () => {
  test('every command with --json, on each of its error paths', async () => {
    const { ws, root, done } = await scratchWorkspace();
    const outside = mkdtempSync(path.join(os.tmpdir(), 'gsc-nows-'));
    try {
      rmSync(path.join(ws, '03-two-workers-two-lists', 'app.js'));
      writeFileSync(path.join(root, 'not-an-export.json'), '{"hello": 1}');
      const cases: [string, string[], RegExp][] = [
        ['unknown lesson', ['check', '99', '--json', '--workspace', ws], /There is no lesson "99"/],
        ['no workspace (check)', ['check', '1', '--json'], /No course workspace here/],
        ['missing app.js', ['check', '3', '--json', '--workspace', ws], /app\.js is missing/],
        ['bad worker count', ['check', '1', '--json', '--workers', '99', '--workspace', ws], /--workers must be a whole number from 1 to 8/],
        ['unknown option', ['check', '1', '--json', '--frobnicate'], /unknown option '--frobnicate'/],
        ['no lesson outside a lesson folder', ['check', '--json', '--workspace', ws], /Which lesson\?/],
        ['not a workspace (list)', ['list', '--json', '--workspace', root], /is not a course workspace/],
        ['no workspace (progress)', ['progress', '--json'], /No course workspace here/],
        ['import a file that is not an export', ['progress', '--json', '--import', path.join(root, 'not-an-export.json'), '--workspace', ws], /not a progress export/],
        ['export and import at once', ['progress', '--json', '--export', 'a', '--import', 'b', '--workspace', ws], /not both/],
        ['not a workspace (doctor option)', ['doctor', '--json', '--bogus'], /unknown option '--bogus'/],
        ['a command without --json asked for JSON', ['hint', '1', '--json'], /unknown option '--json'/],
      ];
      for (const [name, argv, message] of cases) {
        const run = await cliIn(outside, ...argv);
        assert.equal(run.code, 2, `${name}: exit 2\n${run.out}${run.err}`);
        const json = oneJson(run);
        assert.match(String(json.error), message, name);
      }
    } finally {
      rmSync(outside, { recursive: true, force: true });
      done();
    }
  });
});

describe('progress that moves', () => {
  test('progress --export then --import into a fresh workspace carries passes and hints over', async () => {
    const from = await scratchWorkspace();
    const to = await scratchWorkspace();
    try {
      const lesson = findLesson('1')!;
      copyFileSync(solutionFile(lesson), path.join(from.ws, lesson.slug, lesson.file));
      assert.equal((await cli('check', '1', '--workspace', from.ws)).code, 0);
      await cli('hint', '2', '--workspace', from.ws);
      const file = path.join(from.root, 'my-progress.json');
      const exported = await cli('progress', '--export', file, '--workspace', from.ws);
      assert.equal(exported.code, 0, exported.err);
      assert.match(exported.out, /Exported 1 attempt \(passed: 01-frozen-at-startup\)/);
      const imported = await cli('progress', '--import', file, '--workspace', to.ws);
      assert.equal(imported.code, 0, imported.err);
      assert.match(imported.out, /Imported 1 attempt/);
      const progress = JSON.parse((await cli('progress', '--json', '--workspace', to.ws)).out) as { passed: number };
      assert.equal(progress.passed, 1);
      assert.match((await cli('hint', '2', '--workspace', to.ws)).out, /Hint 2 of/);
      // Importing the same file again adds nothing.
      assert.match((await cli('progress', '--import', file, '--workspace', to.ws)).out, /Imported 0 attempts/);
    } finally {
      from.done();
      to.done();
    }
  });

  test('reset --all puts every starter back and keeps each changed file, under a readable date', async () => {
    const { ws, done } = await scratchWorkspace();
    try {
      writeFileSync(path.join(ws, '01-frozen-at-startup', 'app.js'), '// one\n');
      writeFileSync(path.join(ws, '05-the-cache-that-lies', 'app.js'), '// five\n');
      const run = await cli('reset', '--all', '--workspace', ws);
      assert.equal(run.code, 0, run.err);
      assert.equal(run.out.trim().split('\n').length, 9);
      const kept = readdirSync(path.join(ws, '.course', 'backups'));
      assert.equal(kept.length, 2);
      for (const name of kept) assert.match(name, /^0[15]-.+-\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d-app\.js$/);
      assert.equal(readFileSync(path.join(ws, '01-frozen-at-startup', 'app.js'), 'utf8'), readFileSync(path.join(path.dirname(solutionFile(findLesson('1')!)), '..', '..', 'exercises', '01-frozen-at-startup', 'app.js'), 'utf8'));
      assert.equal((await cli('reset', '--workspace', ws)).code, 2);
    } finally {
      done();
    }
  });
});

describe('commands people type where they are', () => {
  test('check with no lesson inside a lesson folder checks that lesson', async () => {
    const { ws, done } = await scratchWorkspace();
    try {
      const run = await cliIn(path.join(ws, '02-everyones-list'), 'check', '--json');
      assert.equal(run.code, 1);
      assert.equal(oneJson(run).lesson, '02-everyones-list');
    } finally {
      done();
    }
  });

  test('a tab-completed folder with its trailing slash names the lesson', async () => {
    const { ws, done } = await scratchWorkspace();
    try {
      for (const key of ['01-frozen-at-startup/', './01-frozen-at-startup/', '01-frozen-at-startup/app.js']) {
        const run = await cliIn(ws, 'hint', key);
        assert.equal(run.code, 0, `${key}: ${run.err}`);
        assert.match(run.out, /Hint \d of/);
      }
    } finally {
      done();
    }
  });

  test('init inside a workspace refuses and names it', async () => {
    const { ws, done } = await scratchWorkspace();
    try {
      const run = await cliIn(path.join(ws, '01-frozen-at-startup'), 'init');
      assert.equal(run.code, 2);
      assert.match(run.err, new RegExp(`inside the course workspace ${ws.replace(/[/\\]/g, '.')}`));
      assert.deepEqual(readdirSync(path.join(ws, '01-frozen-at-startup')).includes('global-state-course'), false);
    } finally {
      done();
    }
  });

  test('outside a workspace, list shows no states and says there is no workspace; hint refuses like check', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'gsc-nows-'));
    try {
      const list = await cliIn(outside, 'list');
      assert.equal(list.code, 0);
      assert.doesNotMatch(list.out, /current|locked/);
      assert.match(list.out, /No course workspace here/);
      const json = JSON.parse((await cliIn(outside, 'list', '--json')).out) as { state?: string }[];
      assert.ok(json.every((l) => l.state === undefined));
      const hint = await cliIn(outside, 'hint', '1');
      assert.equal(hint.code, 2);
      assert.match(hint.err, /No course workspace here/);
      assert.equal(hint.out, '');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

test('mkdir for a workspace under a file is a message', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-nc-'));
  try {
    writeFileSync(path.join(dir, 'file'), 'x');
    mkdirSync(path.join(dir, 'ok'));
    const run = await cli('init', path.join(dir, 'file', 'ws'));
    assert.equal(run.code, 2);
    assert.match(run.err, /Could not create the folder .*file.*part of the path is a file, not a folder \(ENOTDIR\)/);
    noStackTrace(run.err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
