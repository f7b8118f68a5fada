import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Host } from '../src/runtime/host.ts';
import { WORKER_HEADER } from '../src/runtime/dispatcher.ts';
import type { HostEvent } from '../src/runtime/events.ts';
import { allGone } from './helpers/processes.ts';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'runtime', 'version-at-start.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rolling-reload-'));
const hosts: Host[] = [];

after(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly worker: number;
  readonly version?: string;
  readonly pid?: number;
}

async function ask(host: Host): Promise<Answer> {
  try {
    const response = await fetch(host.url + '/');
    const body = (await response.json()) as { version?: string; pid?: number };
    return { status: response.status, worker: Number(response.headers.get(WORKER_HEADER)), version: body.version, pid: body.pid };
  } catch (error) {
    return { status: 0, worker: 0, version: String(error) };
  }
}

test('a rolling reload replaces workers one at a time: old and new code answer side by side, no request fails', async () => {
  // Given three workers started while the site's version is "old"
  writeFileSync(path.join(dir, 'version.txt'), 'old');
  const host = new Host({ appFile: fixture, workers: 3, cwd: dir, startTimeoutMs: 30_000 });
  hosts.push(host);
  await host.start();
  const oldPids = host.workers().map((w) => w.pid);
  const events: HostEvent[] = [];
  host.events.on((event) => events.push(event));

  // When the version changes and the host reloads worker by worker, with visitors asking (three
  // requests, one per worker in turn) as it starts and each time an old worker has stopped
  writeFileSync(path.join(dir, 'version.txt'), 'new');
  const askThree = async () => [await ask(host), await ask(host), await ask(host)];
  const batches: Promise<Answer[]>[] = [];
  const off = host.events.on((event) => {
    if (event.type === 'worker-exited' && event.expected) batches.push(askThree());
  });
  const reload = host.reload({ rolling: true });
  batches.push(askThree());
  await reload;
  off();
  const answered = await Promise.all(batches);
  const during = answered.flat();

  // Then every request was answered, some by old workers and some by new ones
  assert.deepEqual(during.filter((a) => a.status !== 200), [], 'no request fails during a rolling reload');
  const versions = new Set(during.map((a) => a.version));
  assert.ok(versions.has('old') && versions.has('new'), `expected old and new answers, got ${[...versions].join(', ')}`);
  // and once worker 1 was replaced, its place answered with the new code
  assert.ok(answered[1]?.some((a) => a.worker === 1 && a.version === 'new'), JSON.stringify(answered));
  // and the workers were replaced one at a time: each new worker was ready before the next one started
  const order = events.filter((e) => e.type === 'worker-starting' || e.type === 'worker-ready').map((e) => `${e.type === 'worker-starting' ? 'start' : 'ready'} ${e.worker}`);
  assert.deepEqual(order, ['start 1', 'ready 1', 'start 2', 'ready 2', 'start 3', 'ready 3']);
  assert.deepEqual(
    events.filter((e) => e.type === 'reload-start' || e.type === 'reload-end'),
    [{ type: 'reload-start', rolling: true }, { type: 'reload-end', rolling: true }],
  );

  // And afterwards only new code runs, in three new processes; the old ones are gone
  const afterwards = await Promise.all([ask(host), ask(host), ask(host)]);
  assert.deepEqual(afterwards.map((a) => a.version), ['new', 'new', 'new']);
  const newPids = host.workers().map((w) => w.pid);
  assert.equal(newPids.filter((pid) => oldPids.includes(pid)).length, 0);
  assert.ok(await allGone(oldPids), 'the old workers exited');
});

test('reload() without rolling still replaces every worker at once', async () => {
  writeFileSync(path.join(dir, 'version.txt'), 'old');
  const host = new Host({ appFile: fixture, workers: 2, cwd: dir, startTimeoutMs: 30_000 });
  hosts.push(host);
  await host.start();
  const events: HostEvent[] = [];
  host.events.on((event) => events.push(event));
  writeFileSync(path.join(dir, 'version.txt'), 'new');
  await host.reload();
  // Both old workers stop before (or while) both new ones start: the new ones start together
  const order = events.filter((e) => e.type === 'worker-starting' || e.type === 'worker-ready').map((e) => e.type);
  assert.deepEqual(order.slice(0, 2), ['worker-starting', 'worker-starting']);
  assert.deepEqual(events[0], { type: 'reload-start' });
  const answers = [await ask(host), await ask(host)];
  assert.deepEqual(answers.map((a) => a.version), ['new', 'new']);
});

test('reload({ startFirst }) starts every new worker while all the old ones serve, then stops the old ones', async () => {
  // Given three workers started while the site's version is "old"
  writeFileSync(path.join(dir, 'version.txt'), 'old');
  const host = new Host({ appFile: fixture, workers: 3, cwd: dir, startTimeoutMs: 30_000 });
  hosts.push(host);
  await host.start();
  const oldPids = host.workers().map((w) => w.pid);
  const events: HostEvent[] = [];
  host.events.on((event) => events.push(event));

  // When the version changes and the host reloads starting the new workers first, a visitor asking meanwhile
  writeFileSync(path.join(dir, 'version.txt'), 'new');
  const reload = host.reload({ startFirst: true });
  const during = [await ask(host), await ask(host), await ask(host)];
  await reload;

  // Then no request failed, and every new worker was ready before any old one exited
  assert.deepEqual(during.filter((a) => a.status !== 200), []);
  const order = events.filter((e) => e.type === 'worker-ready' || (e.type === 'worker-exited' && e.expected)).map((e) => e.type);
  assert.deepEqual(order, ['worker-ready', 'worker-ready', 'worker-ready', 'worker-exited', 'worker-exited', 'worker-exited']);
  assert.deepEqual(
    events.filter((e) => e.type === 'reload-start' || e.type === 'reload-end'),
    [{ type: 'reload-start' }, { type: 'reload-end' }],
  );
  // and afterwards only new code runs, in new processes; the old ones are gone
  const afterwards = [await ask(host), await ask(host), await ask(host)];
  assert.deepEqual(afterwards.map((a) => a.version), ['new', 'new', 'new']);
  assert.ok(await allGone(oldPids), 'the old workers exited');
});
