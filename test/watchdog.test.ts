// A spinning app never outlives the course: a worker whose app never yields (a busy loop at
// import, or in a handler) still ends when the course process is SIGKILLed, because the course's
// reaper (src/runtime/processes/reaper.ts) ends it; and the reaper does not outlive it either.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PIN_HEADER } from '../src/runtime/dispatcher.ts';
import { alive, allGone, childrenOf } from './helpers/processes.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => path.join(here, 'fixtures', 'runtime', name);
const WORKERS = 2;

/** The host helper's report lines, as they come. */
function reports(child: ChildProcess): AsyncIterableIterator<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async next() {
      const step = await lines.next();
      return step.done ? step : { done: false, value: JSON.parse(step.value as string) as Record<string, unknown> };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Resolve with the first report `match` picks; reject when the helper's output ends first. */
async function until(source: AsyncIterableIterator<Record<string, unknown>>, match: (r: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for await (const report of source) if (match(report)) return report;
  throw new Error('the host helper ended before the awaited report');
}

async function killCourseAndExpectWorkersGone(course: ChildProcess, pids: number[]): Promise<void> {
  // Every process the course started: its workers and the reaper beside them.
  const children = childrenOf(course.pid!);
  try {
    assert.ok(pids.every((pid) => children.includes(pid)), `the workers ${pids} are not among the course's children ${children}`);
    assert.ok(children.length > pids.length, `no process beside the workers (the reaper) among the course's children ${children}`);
    course.kill('SIGKILL');
    await once(course, 'exit');
    assert.ok(await allGone(children, 5000), `still alive 5 s after SIGKILL of the course: ${children.filter(alive)}`);
  } finally {
    // Whatever failed above, no process of this test outlives it.
    for (const pid of [course.pid!, ...children, ...pids]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

describe('a spinning app never outlives the course', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  test('busy loop at import: kill -9 of the course ends every worker', async () => {
    // Given a course whose workers all spin while importing the app
    const course = spawn(process.execPath, [path.join(here, 'helpers', 'spin-host.ts'), fixture('spins-at-import.js'), String(WORKERS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const source = reports(course);
    const { pids } = (await until(source, (r) => Array.isArray(r.pids))) as { pids: number[] };
    // (each printed its line just before the loop: the app's code runs and never yields)
    for (let i = 0; i < WORKERS; i++) await until(source, (r) => r.output === 'spinning');
    // When the course is SIGKILLed, then every worker is gone within the deadline
    await killCourseAndExpectWorkersGone(course, pids);
  });

  test('busy loop in a handler after a first request: kill -9 of the course ends every worker', async () => {
    // Given a course whose workers served a request, then spin in a handler
    const course = spawn(process.execPath, [path.join(here, 'helpers', 'spin-host.ts'), fixture('spins-in-handler.js'), String(WORKERS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const source = reports(course);
    const { pids, url } = (await until(source, (r) => Array.isArray(r.pids))) as { pids: number[]; url: string };
    const abort = new AbortController();
    for (let k = 1; k <= WORKERS; k++) {
      assert.equal(await (await fetch(url, { headers: { [PIN_HEADER]: String(k) } })).text(), 'ok');
      fetch(`${url}/spin`, { headers: { [PIN_HEADER]: String(k) }, signal: abort.signal }).catch(() => {});
    }
    for (let i = 0; i < WORKERS; i++) await until(source, (r) => r.output === 'spinning');
    // When the course is SIGKILLed, then every worker is gone within the deadline
    abort.abort();
    await killCourseAndExpectWorkersGone(course, pids);
  });
});
