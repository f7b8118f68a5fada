// The check story's reducer, fed the engine's events by hand: no terminal, no processes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckEvent, CheckResult } from '../../src/check/engine.ts';
import { checkReducer, idleCheck, isRunning, type CheckAction, type CheckView } from '../../src/ui/check-state.ts';

const titles = ['Every worker lists the products', 'A price change shows at once'];
const record = (worker: number, status = 200) => ({ visitor: 'alice', method: 'GET', path: '/api/products', worker, status, body: 'ok' });

function fold(actions: readonly CheckAction[], from: CheckView = idleCheck): CheckView {
  return actions.reduce(checkReducer, from);
}
const engine = (event: CheckEvent): CheckAction => ({ type: 'engine', event });

const result = (passed: boolean): CheckResult => ({
  lesson: '01-frozen-at-startup',
  number: 1,
  passed,
  workers: 3,
  policy: 'round-robin',
  seed: 7,
  durationMs: 420,
  steps: [
    { title: titles[0], passed: true, requests: [record(1), record(2), record(3)] },
    passed
      ? { title: titles[1], passed: true, requests: [record(1)] }
      : { title: titles[1], passed: false, message: 'Expected 199, got 239.', diagnosis: 'Read per request.', requests: [record(1)] },
  ],
});

describe('checkReducer', () => {
  test('a requested run starts afresh, counts runs, and is running', () => {
    // Given a finished run
    const done = fold([{ type: 'requested', workers: 3, trigger: 'key' }, engine({ type: 'check-end', result: result(true) })]);
    assert.equal(done.phase, 'passed');
    // When another is requested
    const again = checkReducer(done, { type: 'requested', workers: 3, trigger: 'save' });
    // Then it starts empty, as run 2, set off by the save
    assert.equal(again.phase, 'starting');
    assert.equal(again.run, 2);
    assert.equal(again.trigger, 'save');
    assert.deepEqual(again.steps, []);
    assert.equal(isRunning(again), true);
  });

  test('steps appear, run, collect their requests live and end with their verdict', () => {
    const view = fold([
      { type: 'requested', workers: 3, trigger: 'key' },
      engine({ type: 'check-start', lesson: 'x', workers: 3, policy: 'round-robin', seed: 7, steps: titles }),
      engine({ type: 'host', event: { type: 'worker-ready', worker: 1, pid: 11, port: 1 } }),
      engine({ type: 'host', event: { type: 'worker-ready', worker: 2, pid: 12, port: 2 } }),
    ]);
    assert.equal(view.ready, 2);
    assert.deepEqual(view.steps.map((s) => s.status), ['pending', 'pending']);

    const running = fold([engine({ type: 'step-start', index: 0, title: titles[0] }), engine({ type: 'request', step: 0, record: record(1) })], view);
    assert.equal(running.phase, 'running');
    assert.equal(running.steps[0].status, 'running');
    assert.deepEqual(running.steps[0].requests.map((r) => r.worker), [1]);

    const failed = fold(
      [
        engine({ type: 'step-end', index: 0, result: result(false).steps[0] }),
        engine({ type: 'step-start', index: 1, title: titles[1] }),
        engine({ type: 'step-end', index: 1, result: result(false).steps[1] }),
        engine({ type: 'check-end', result: result(false) }),
      ],
      running,
    );
    assert.equal(failed.phase, 'failed');
    assert.deepEqual(failed.steps.map((s) => s.status), ['passed', 'failed']);
    assert.equal(failed.steps[1].message, 'Expected 199, got 239.');
    assert.equal(failed.steps[1].diagnosis, 'Read per request.');
    assert.deepEqual(failed.steps[0].requests.map((r) => r.worker), [1, 2, 3]);
    assert.equal(failed.durationMs, 420);
    assert.equal(isRunning(failed), false);
  });

  test('steps not run and steps left out are told apart', () => {
    const view = fold([
      { type: 'requested', workers: 1, trigger: 'compare' },
      engine({
        type: 'check-end',
        result: {
          ...result(true),
          steps: [
            { title: 'a', passed: false, skipped: true, requests: [] },
            { title: 'b', passed: true, skipped: true, note: 'one worker', requests: [] },
          ],
        },
      }),
    ]);
    assert.deepEqual(view.steps.map((s) => s.status), ['not-run', 'left-out']);
    assert.equal(view.steps[1].note, 'one worker');
  });

  test('an app that does not start keeps its problem and marks every step not run', () => {
    const view = fold([
      { type: 'requested', workers: 3, trigger: 'key' },
      engine({ type: 'check-start', lesson: 'x', workers: 3, policy: 'round-robin', seed: 7, steps: titles }),
      engine({ type: 'check-end', result: { ...result(false), steps: [], problem: { kind: 'syntax', message: 'Unexpected token', file: '/w/app.js', line: 3 } } }),
    ]);
    assert.equal(view.phase, 'failed');
    assert.equal(view.problem?.line, 3);
    assert.deepEqual(view.steps.map((s) => s.status), ['not-run', 'not-run']);
  });

  test('once stopped, late events from the aborted run change nothing', () => {
    const stopped = fold([{ type: 'requested', workers: 3, trigger: 'key' }, { type: 'stopped' }]);
    assert.equal(stopped.phase, 'stopped');
    const after = checkReducer(stopped, engine({ type: 'check-end', result: result(false) }));
    assert.equal(after, stopped);
  });

  test('a check that cannot run says why', () => {
    const view = fold([{ type: 'requested', workers: 3, trigger: 'key' }, { type: 'could-not-run', message: 'app.js is missing' }]);
    assert.equal(view.phase, 'error');
    assert.equal(view.error, 'app.js is missing');
  });
});
