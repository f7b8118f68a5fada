// Each simulated machine sees a disk of its own (src/runtime/processes/machine-view.ts): what one
// machine writes in /tmp, /dev/shm, the home folder or the app's folder is invisible to the
// other machine and to the real disk; its data folder is written through; the other machine's
// data folder is empty. The holder that keeps a view open ends when closed, and with the course.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openMachineView, probeMachineViews, type MachineView } from '../src/runtime/processes.ts';
import { allGone } from './helpers/processes.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const missing = await probeMachineViews();
// CI runs on Linux with namespaces allowed: there the views must work. Elsewhere, say why not.
const skip = missing !== undefined && !process.env.CI ? `machine views are not available here: ${missing}` : false;

/** Run a shell command inside a view; its exit code and output. */
function inside(view: MachineView, cwd: string, script: string): { code: number | null; out: string } {
  const [command, ...args] = view.enter(cwd);
  const result = spawnSync(command!, [...args, '/bin/sh', '-c', script], { encoding: 'utf8' });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('machine views', { skip }, () => {
  assert.equal(missing, undefined, `machine views must work in CI: ${missing}`);
  const root = mkdtempSync(path.join(os.tmpdir(), 'views-test-'));
  const tag = path.basename(root);
  const app = path.join(root, 'workspace', '08-lesson');
  const data = [path.join(root, 'machine-1'), path.join(root, 'machine-2')];
  const views: MachineView[] = [];
  const privatePaths = [`/tmp/${tag}.lock`, `/dev/shm/${tag}.lock`, path.join(os.homedir(), `.${tag}.lock`), path.join(app, `${tag}.lock`)];

  before(async () => {
    mkdirSync(app, { recursive: true });
    for (const dir of data) mkdirSync(dir);
    writeFileSync(path.join(data[1]!, 'shop.db'), 'machine 2 data');
    for (const own of data) {
      const view = await openMachineView({ keep: [own], blank: data.filter((d) => d !== own), private: [app] });
      assert.ok(view, 'a view opens');
      views.push(view);
    }
  });
  after(() => {
    for (const view of views) view.close();
    for (const file of privatePaths) rmSync(file, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  test('what machine 1 writes in /tmp, /dev/shm, the home folder and the app folder stays on machine 1', () => {
    const write = inside(views[0]!, data[0]!, privatePaths.map((file) => `echo one > '${file}'`).join(' && '));
    assert.equal(write.code, 0, write.out);
    const seenOnOne = inside(views[0]!, data[0]!, privatePaths.map((file) => `cat '${file}'`).join(' && '));
    assert.equal(seenOnOne.out.trim().split('\n').join(','), 'one,one,one,one', 'machine 1 reads back its own files');
    for (const file of privatePaths) {
      const other = inside(views[1]!, data[1]!, `test -e '${file}'`);
      assert.notEqual(other.code, 0, `machine 2 sees machine 1's ${file}`);
      assert.equal(existsSync(file), false, `${file} reached the real disk`);
    }
  });

  test("a machine's data folder is written through; the other machine's is empty there", () => {
    const write = inside(views[0]!, data[0]!, 'echo logged > jobs.log && pwd');
    assert.equal(write.code, 0, write.out);
    assert.equal(write.out.trim(), data[0], 'the process starts in its data folder');
    assert.equal(readFileSync(path.join(data[0]!, 'jobs.log'), 'utf8'), 'logged\n', 'the write reached the real disk');
    const listing = inside(views[0]!, data[0]!, `ls -A '${data[1]}'`);
    assert.equal(listing.code, 0, listing.out);
    assert.equal(listing.out.trim(), '', "machine 1 sees nothing of machine 2's data");
    const cannotWrite = inside(views[0]!, data[0]!, `echo x > '${data[1]}/planted'`);
    assert.notEqual(cannotWrite.code, 0, "machine 1 cannot write into machine 2's data folder");
    assert.equal(inside(views[1]!, data[1]!, 'cat shop.db').out, 'machine 2 data', 'machine 2 reads its own data');
  });

  test('the holder ends when the view is closed, and when the course is killed', async () => {
    const holder = (view: MachineView) => Number(/--target=(\d+)/.exec(view.enter().join(' '))?.[1]);
    const view = await openMachineView({ keep: [], blank: [], private: [] });
    assert.ok(view);
    const pid = holder(view);
    assert.ok(pid > 0);
    view.close();
    assert.ok(await allGone([pid]), `holder ${pid} still alive after close()`);

    // A course process that opens a view and is then SIGKILLed: its holder goes with it.
    const course = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'helpers', 'open-view.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface({ input: course.stdout! }), 'line')) as [string];
    const orphan = Number(line);
    assert.ok(orphan > 0, `the helper printed ${line}`);
    course.kill('SIGKILL');
    assert.ok(await allGone([orphan]), `holder ${orphan} outlived its course`);
  });
});
