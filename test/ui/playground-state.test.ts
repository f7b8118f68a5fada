// The playground's reducer, fed host events by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HostEvent } from '../../src/runtime/events.ts';
import { initialPlayground, LOG_LIMIT, playgroundReducer, type PlaygroundAction, type PlaygroundView } from '../../src/ui/playground-state.ts';

const at = '12:00:00';
const host = (event: HostEvent): PlaygroundAction => ({ type: 'host', event, at });
const fold = (actions: readonly PlaygroundAction[], from: PlaygroundView = initialPlayground('mine', 2)) => actions.reduce(playgroundReducer, from);

const started = fold([
  { type: 'starting', source: 'mine', count: 2, at },
  host({ type: 'worker-starting', worker: 1, pid: 101 }),
  host({ type: 'worker-starting', worker: 2, pid: 102 }),
  host({ type: 'worker-ready', worker: 2, pid: 102, port: 1 }),
  host({ type: 'worker-ready', worker: 1, pid: 101, port: 2 }),
  { type: 'started', url: 'http://127.0.0.1:5/' },
]);

const requestEnd = (worker: number, status = 200): HostEvent => ({
  type: 'request-end',
  id: 1,
  method: 'GET',
  path: '/',
  worker,
  status,
  latencyMs: 3.4,
  body: '<!doctype html><title>Your basket</title><h1>Your basket</h1>',
});

describe('playgroundReducer', () => {
  test('workers appear in order with their pids and become idle when ready', () => {
    assert.equal(started.phase, 'running');
    assert.equal(started.url, 'http://127.0.0.1:5/');
    assert.deepEqual(
      started.workers.map((w) => [w.index, w.pid, w.state]),
      [
        [1, 101, 'idle'],
        [2, 102, 'idle'],
      ],
    );
  });

  test('a request makes its worker busy until it ends, then counts as served and is logged', () => {
    const busy = fold([host({ type: 'request-start', id: 1, method: 'GET', path: '/', worker: 2 })], started);
    assert.equal(busy.workers[1].state, 'busy');
    assert.equal(busy.workers[0].state, 'idle');
    const done = fold([host(requestEnd(2))], busy);
    assert.equal(done.workers[1].state, 'idle');
    assert.equal(done.workers[1].served, 1);
    const last = done.log.at(-1);
    assert.equal(last?.kind, 'request');
    assert.ok(last?.kind === 'request' && last.worker === 2 && last.visitor === 'browser' && last.status === 200);
  });

  test('a crash marks the worker, and its restart in the same place counts', () => {
    const crashed = fold(
      [
        host(requestEnd(1)),
        host({ type: 'worker-crashed', worker: 1, pid: 101, problem: { kind: 'crash', message: 'boom' } }),
        host({ type: 'worker-exited', worker: 1, pid: 101, code: 1, signal: null, expected: false }),
      ],
      started,
    );
    assert.equal(crashed.workers[0].state, 'crashed');
    assert.match(crashed.log.map((e) => (e.kind === 'note' ? e.text : '')).join('\n'), /Worker 1 \(pid 101\) crashed: boom/);
    const restarted = fold([host({ type: 'worker-starting', worker: 1, pid: 201 }), host({ type: 'worker-ready', worker: 1, pid: 201, port: 3 })], crashed);
    assert.deepEqual([restarted.workers[0].pid, restarted.workers[0].state, restarted.workers[0].restarts, restarted.workers[0].served], [201, 'idle', 1, 1]);
  });

  test('a reload gives fresh workers whose counts start again; a smaller count drops panels', () => {
    const reloaded = fold(
      [
        host(requestEnd(1)),
        { type: 'resizing', count: 1 },
        host({ type: 'reload-start' }),
        host({ type: 'worker-exited', worker: 1, pid: 101, code: 0, signal: null, expected: true }),
        host({ type: 'worker-exited', worker: 2, pid: 102, code: 0, signal: null, expected: true }),
        host({ type: 'worker-starting', worker: 1, pid: 301 }),
        host({ type: 'worker-ready', worker: 1, pid: 301, port: 4 }),
        host({ type: 'reload-end' }),
      ],
      started,
    );
    assert.equal(reloaded.phase, 'running');
    assert.deepEqual(
      reloaded.workers.map((w) => [w.index, w.pid, w.state, w.served]),
      [[1, 301, 'idle', 0]],
    );
    const last = reloaded.log.at(-1);
    assert.match(last?.kind === 'note' ? last.text : '', /Reloaded all at once: 1 fresh worker;/);
  });

  test('a rolling reload says so, and the old worker keeps its place until its successor starts', () => {
    const rolling = fold(
      [
        host({ type: 'reload-start', rolling: true }),
        host(requestEnd(1)),
        host({ type: 'worker-starting', worker: 1, pid: 301 }),
        host({ type: 'worker-ready', worker: 1, pid: 301, port: 4 }),
        host({ type: 'worker-exited', worker: 1, pid: 101, code: 0, signal: null, expected: true }),
        host({ type: 'worker-starting', worker: 2, pid: 302 }),
        host({ type: 'worker-ready', worker: 2, pid: 302, port: 5 }),
        host({ type: 'worker-exited', worker: 2, pid: 102, code: 0, signal: null, expected: true }),
        host({ type: 'reload-end', rolling: true }),
      ],
      started,
    );
    const notes = rolling.log.flatMap((entry) => (entry.kind === 'note' ? [entry.text] : []));
    assert.match(notes.at(-2) ?? '', /^Rolling reload: workers are replaced one at a time/);
    assert.match(notes.at(-1) ?? '', /^Rolling reload done: 2 fresh workers;/);
    assert.deepEqual(
      rolling.workers.map((w) => [w.index, w.pid, w.state, w.served]),
      [
        [1, 301, 'idle', 0],
        [2, 302, 'idle', 0],
      ],
    );
  });

  test('an old worker exiting late does not touch the fresh one in its place', () => {
    const view = fold([host({ type: 'worker-starting', worker: 1, pid: 999 }), host({ type: 'worker-exited', worker: 1, pid: 101, code: 0, signal: null, expected: true })], started);
    assert.equal(view.workers[0].pid, 999);
    assert.equal(view.workers[0].state, 'starting');
  });

  test('an app that cannot start says why; stopping stops every panel', () => {
    const failed = fold([{ type: 'start-failed', message: 'SyntaxError: Unexpected token', at }], started);
    assert.equal(failed.phase, 'failed');
    assert.equal(failed.error, 'SyntaxError: Unexpected token');
    const stopped = fold([{ type: 'stopped', at }], started);
    assert.equal(stopped.phase, 'stopped');
    assert.equal(stopped.url, undefined);
    assert.ok(stopped.workers.every((w) => w.state === 'stopped'));
  });

  test('the log keeps the newest entries only', () => {
    const many = Array.from({ length: LOG_LIMIT + 50 }, (_, i): PlaygroundAction => host({ type: 'worker-output', worker: 1, stream: 'stdout', line: `line ${i}` }));
    const view = fold(many, started);
    assert.equal(view.log.length, LOG_LIMIT);
    const last = view.log.at(-1);
    assert.ok(last?.kind === 'output' && last.line === `line ${LOG_LIMIT + 49}`);
    assert.equal(new Set(view.log.map((e) => e.id)).size, LOG_LIMIT, 'ids stay unique');
  });

  test('the host switch: a start on node:cluster says so and keeps to it until another host is asked for', () => {
    const view = [
      { type: 'starting', source: 'mine', count: 3, host: 'cluster', at: '10:00:00' },
      { type: 'started', url: 'http://127.0.0.1:1/' },
      { type: 'starting', source: 'reference', count: 3, at: '10:00:01' },
    ].reduce((v: PlaygroundView, a) => playgroundReducer(v, a as PlaygroundAction), initialPlayground('mine', 3));
    assert.equal(view.host, 'cluster', 'm keeps the host');
    const notes = view.log.flatMap((e) => (e.kind === 'note' ? [e.text] : []));
    assert.deepEqual(notes, ['Starting your app on 3 workers on node:cluster…', 'Starting the reference fix on 3 workers on node:cluster…']);
    const back = playgroundReducer(view, { type: 'starting', source: 'mine', count: 3, host: 'course', at: '10:00:02' });
    assert.equal(back.host, 'course');
    const latest = back.log.at(-1);
    assert.equal(latest?.kind === 'note' ? latest.text : undefined, 'Starting your app on 3 workers…');
  });
});
