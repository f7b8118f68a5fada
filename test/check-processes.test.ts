// A plain check boots the processes its steps use and no more: its workers, and spares only for
// the steps that reload, booted once and ended with the run; the warm pool stays untouched.
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { runCheck } from '../src/check/engine.ts';
import { lessons, solutionFile } from '../src/lessons/catalogue.ts';
import type { Lesson } from '../src/lessons/types.ts';
import { prewarm, sparePids, stopSpares } from '../src/runtime/processes.ts';
import { alive } from './helpers/processes.ts';

/**
 * Run a check of the reference fix, counting the Node processes started meanwhile (every spawn
 * goes through ChildProcess). The course's reaper, one shell per course process started with its
 * first worker (src/runtime/processes/reaper.ts), is no process of the check's.
 */
async function countedCheck(lesson: Lesson, workers?: number, warmPool = false) {
  const pids: number[] = [];
  const proto = ChildProcess.prototype as unknown as { spawn: (this: ChildProcess, options: { file: string }) => unknown };
  const spawn = proto.spawn;
  proto.spawn = function (options) {
    const result = spawn.call(this, options);
    if (this.pid && options.file === process.execPath) pids.push(this.pid);
    return result;
  };
  try {
    let whileRunning: number[] = [];
    const result = await runCheck(lesson, {
      appFile: solutionFile(lesson),
      workers,
      warmPool,
      onEvent: (event) => {
        if (event.type === 'check-end') whileRunning = [...pids];
      },
    });
    return { result, pids, whileRunning };
  } finally {
    proto.spawn = spawn;
  }
}

const byNumber = (n: number) => lessons.find((l) => l.number === n)!;

describe('processes a plain check boots', () => {
  after(() => assert.deepEqual(sparePids(), [], 'no check filled the warm pool'));

  test('a check that reloads boots its workers and one spare per worker for the reload, and ends them all', async () => {
    // Given lesson 3, three workers and one step that reloads every worker
    const lesson = byNumber(3);
    assert.equal(lesson.steps.filter((s) => s.reloads).length, 1);
    // When its reference fix is checked
    const { result, pids } = await countedCheck(lesson);
    // Then it passed, having started 3 workers and 3 spares, none of which outlives the run
    assert.equal(result.passed, true);
    assert.equal(pids.length, 6);
    assert.deepEqual(pids.filter(alive), []);
  });

  test('a check without a reload boots only its workers', async () => {
    // Given lesson 7: one worker, no step that reloads
    const lesson = byNumber(7);
    assert.equal(lesson.steps.some((s) => s.reloads), false);
    const { result, pids } = await countedCheck(lesson);
    assert.equal(result.passed, true);
    assert.equal(pids.length, lesson.workers);
  });

  test('a reload step that this run skips books no spare', async () => {
    // Given lesson 3 on one worker, where the reload step is left out
    const { result, pids } = await countedCheck(byNumber(3), 1);
    assert.equal(result.passed, true);
    assert.ok(result.steps.some((s) => s.skipped && s.note));
    // Then only the one worker was started
    assert.equal(pids.length, 1);
  });
});

describe("the interactive course's warm pool", () => {
  after(() => stopSpares());

  test('holds a start and a reload; a check that finds it full boots nothing while it runs, and the pool is full again after it', async () => {
    // Given lesson 3 (three workers, one step that reloads them) and an empty pool
    const lesson = byNumber(3);
    await stopSpares();
    // When a first check runs with the warm pool (the course's first save)
    const first = await countedCheck(lesson, undefined, true);
    // Then it passed and left spares for the next one's start and its reload
    assert.equal(first.result.passed, true);
    assert.equal(sparePids().length, 6);
    await prewarm(6);
    const before = sparePids();
    // When the next save's check runs
    const next = await countedCheck(lesson, undefined, true);
    // Then its workers and their reload came from the pool: no process started while it ran
    assert.equal(next.result.passed, true);
    assert.deepEqual(next.whileRunning, []);
    // And the pool is full again, of spares booted once it was over
    assert.equal(next.pids.length, 6);
    assert.equal(sparePids().length, 6);
    assert.deepEqual(sparePids().filter((pid) => before.includes(pid)), []);
  });
});
