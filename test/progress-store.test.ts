// Progress survives its database being destroyed: the journal beside it restores every pass.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { journalFileFor } from '../src/progress/journal.ts';
import { readableStamp } from '../src/progress/stamp.ts';
import { ProgressStore, type Attempt } from '../src/progress/store.ts';
import { cli, scratchWorkspace } from './helpers/cli.ts';

const pass = (lesson: string): Attempt => ({ lesson, passed: true, workers: 3, seed: 1, durationMs: 10, solution: false });
const fail = (lesson: string): Attempt => ({ lesson, passed: false, workers: 3, seed: 2, durationMs: 10, solution: false, failedStep: 'a step' });

function withDir(use: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-store-'));
  try {
    use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function destroy(file: string): void {
  for (const extra of ['-wal', '-shm']) rmSync(file + extra, { force: true });
  writeFileSync(file, 'garbage, not a database '.repeat(300));
}

describe('the journal', () => {
  test('garbage in the database: passes, attempts and hints come back from the journal, and the learner is told what', () => {
    withDir((dir) => {
      const file = path.join(dir, 'progress.db');
      const store = ProgressStore.open(file);
      store.record(fail('01-a'));
      store.record(pass('01-a'));
      store.record(pass('02-b'));
      store.markHintShown('03-c', 2);
      store.close();

      destroy(file);
      const reopened = ProgressStore.open(file);
      try {
        assert.match(reopened.recovered ?? '', /damaged \(SQLITE_NOTADB\) and was kept as .*progress\.db\.corrupt-\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\. Your progress was restored from .*progress\.journal: 3 attempts; passed: 01-a, 02-b/);
        const summary = reopened.summary();
        assert.equal(summary.get('01-a')?.attempts, 2);
        assert.equal(summary.get('02-b')?.passed, true);
        assert.equal(reopened.hintsShown('03-c'), 2);
        assert.equal(reopened.attempts('01-a')[0].failedStep, 'a step');
      } finally {
        reopened.close();
      }
      const kept = readdirSync(dir).filter((n) => n.startsWith('progress.db.corrupt-') && !/-(wal|shm)$/.test(n));
      assert.equal(kept.length, 1);
      assert.match(kept[0], new RegExp(`^progress\\.db\\.corrupt-${readableStamp().slice(0, 10)}_`));
    });
  });

  test('a deleted database is rebuilt from the journal', () => {
    withDir((dir) => {
      const file = path.join(dir, 'progress.db');
      const store = ProgressStore.open(file);
      store.record(pass('01-a'));
      store.close();
      for (const extra of ['', '-wal', '-shm']) rmSync(file + extra, { force: true });
      const reopened = ProgressStore.open(file);
      try {
        assert.match(reopened.recovered ?? '', /was missing; it was rebuilt from .*: 1 attempt; passed: 01-a/);
        assert.equal(reopened.summary().get('01-a')?.passed, true);
      } finally {
        reopened.close();
      }
    });
  });

  test('a journal line cut short by a crash is left out, and said', () => {
    withDir((dir) => {
      const file = path.join(dir, 'progress.db');
      const store = ProgressStore.open(file);
      store.record(pass('01-a'));
      store.close();
      appendFileSync(journalFileFor(file), '{"kind":"attempt","lesson":"02-b","pas');
      destroy(file);
      const reopened = ProgressStore.open(file);
      try {
        assert.match(reopened.recovered ?? '', /1 attempt; passed: 01-a; 1 unreadable line left out/);
      } finally {
        reopened.close();
      }
    });
  });

  test('a database from before the journal: the journal starts with everything it holds', () => {
    withDir((dir) => {
      const file = path.join(dir, 'progress.db');
      const store = ProgressStore.open(file);
      store.record(pass('01-a'));
      store.close();
      rmSync(journalFileFor(file));
      ProgressStore.open(file).close();
      const lines = readFileSync(journalFileFor(file), 'utf8').trim().split('\n');
      assert.equal(lines.length, 1);
      assert.equal((JSON.parse(lines[0]) as { lesson: string }).lesson, '01-a');
    });
  });

  test('without a journal, damage is still said and the old file kept', () => {
    withDir((dir) => {
      const file = path.join(dir, 'progress.db');
      new Database(file).close();
      destroy(file);
      const reopened = ProgressStore.open(file);
      reopened.close();
      assert.match(reopened.recovered ?? '', /no journal to restore from/);
      assert.ok(existsSync(file));
    });
  });
});

test('the plain commands after the database is destroyed: lesson 1 still passed, lesson 2 open', async () => {
  const { ws, done } = await scratchWorkspace();
  try {
    const store = ProgressStore.open(path.join(ws, '.course', 'progress.db'));
    store.record(pass('01-frozen-at-startup'));
    store.close();
    destroy(path.join(ws, '.course', 'progress.db'));
    const run = await cli('list', '--json', '--workspace', ws);
    assert.equal(run.code, 0);
    assert.match(run.err, /restored from .*: 1 attempt; passed: 01-frozen-at-startup/);
    const list = JSON.parse(run.out) as { state: string }[];
    assert.deepEqual(list.slice(0, 2).map((l) => l.state), ['passed', 'current']);
  } finally {
    done();
  }
});
