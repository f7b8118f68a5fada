// doctor tells a running course's workers from orphans, and never suggests killing a live run's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { checkLeftovers, courseWorkers } from '../src/doctor.ts';

/** A stand-in worker: a Node process whose script is `…/runtime/worker-main.js`, as the course's are. */
function fakeWorkerScript(dir: string, name = 'worker-main'): string {
  mkdirSync(path.join(dir, 'runtime'), { recursive: true });
  const file = path.join(dir, 'runtime', `${name}.js`);
  writeFileSync(file, 'setInterval(() => {}, 1 << 30);\n');
  return file;
}

/** A Node "course" that starts a fake worker, prints its PID, and stays (or exits at once: the worker is orphaned). */
async function course(worker: string, stay: boolean) {
  const script = `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, [${JSON.stringify(worker)}], { detached: ${!stay}, stdio: 'ignore' });
    console.log(child.pid);
    ${stay ? 'setInterval(() => {}, 1 << 30);' : 'child.unref(); process.exit(0);'}
  `;
  const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = Number(await new Promise<string>((resolve) => createInterface({ input: parent.stdout! }).once('line', resolve)));
  return { parent, pid };
}

test('a live course\'s workers are not leftovers; an orphan is, and only it gets a kill command', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-doc-'));
  const worker = fakeWorkerScript(dir);
  const live = await course(worker, true);
  const gone = await course(worker, false);
  await once(gone.parent, 'exit');
  try {
    const ours = courseWorkers().filter((w) => w.pid === live.pid || w.pid === gone.pid);
    const liveWorker = ours.find((w) => w.pid === live.pid);
    const orphan = ours.find((w) => w.pid === gone.pid);
    assert.equal(liveWorker?.live, true);
    assert.equal(liveWorker?.parent, live.parent.pid);
    assert.equal(orphan?.live, false);

    const both = checkLeftovers(ours);
    assert.equal(both.verdict, 'warn');
    assert.equal(both.fix, `End the orphan: kill ${gone.pid}`);
    assert.match(both.detail, new RegExp(`course PID ${live.parent.pid}.*not leftovers`));
    assert.doesNotMatch(`${both.detail} ${both.fix}`, new RegExp(`kill[^.]*\\b${live.pid}\\b`));

    const onlyLive = checkLeftovers(ours.filter((w) => w.live));
    assert.equal(onlyLive.verdict, 'ok');
    assert.equal(onlyLive.fix, undefined);
    assert.match(onlyLive.detail, /^none; 1 worker of a course running now/);
  } finally {
    live.parent.kill('SIGKILL');
    for (const pid of [live.pid, gone.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an orphaned database keeper or node:cluster primary is a leftover too', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-doc-'));
  const started: number[] = [];
  try {
    for (const name of ['postgres-main', 'cluster-primary']) {
      const gone = await course(fakeWorkerScript(dir, name), false);
      await once(gone.parent, 'exit');
      started.push(gone.pid);
    }
    const ours = courseWorkers().filter((w) => started.includes(w.pid));
    assert.deepEqual(ours.map((w) => w.pid).sort(), [...started].sort());
    assert.ok(ours.every((w) => !w.live));
    assert.equal(checkLeftovers(ours).fix, `End the orphans: kill ${ours.map((w) => w.pid).join(' ')}`);
  } finally {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
