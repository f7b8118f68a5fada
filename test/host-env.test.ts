// The app sees only what a real host gives it: no course variable in its environment (neither
// in process.env nor in what the process started with), PM2's instance number and a host name
// per machine, argv[1] naming the app, node:cluster's worker, and nothing of the course's messages.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Host } from '../src/runtime/host.ts';
import { PIN_HEADER } from '../src/runtime/dispatcher.ts';
import { baseEnvironment, machineHostname } from '../src/runtime/host-env.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const appFile = path.join(here, 'fixtures', 'runtime', 'host-view.js');
const hosts: Host[] = [];
after(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
});

interface View {
  env: Record<string, string>;
  startedWith: string[];
  argv: string[];
  cwd: string;
  cmdline: string[];
  heard: unknown[];
  timers: number;
  cluster: { isWorker: boolean; isPrimary: boolean; id?: number; connected?: boolean };
}

async function view(host: Host, worker: number): Promise<View> {
  const response = await fetch(host.url, { headers: { [PIN_HEADER]: String(worker) } });
  assert.equal(response.status, 200);
  return (await response.json()) as View;
}

describe('what the app sees of its host', () => {
  test('a course started by npm with CI and course variables: the app sees none of them, and PM2-like instance variables', async () => {
    // Given a course process whose environment holds course-only and npm lifecycle variables
    // (set here, as the course would have been started with them) and a setting of the shell
    const saved = { ...process.env };
    Object.assign(process.env, { COURSE_SECRET: 'x', npm_lifecycle_event: 'test', npm_config_cache: '/tmp', INIT_CWD: '/tmp', SHELL_SETTING: 'kept' });
    const base = baseEnvironment(process.env);
    process.env = saved;
    assert.equal(base.SHELL_SETTING, 'kept');
    assert.deepEqual(Object.keys(base).filter((k) => /^(COURSE_|npm_|INIT_CWD)/i.test(k)), []);

    // When a host with two machines of two workers starts the app, on a manual clock
    const dir = mkdtempSync(path.join(os.tmpdir(), 'host-view-'));
    const host = new Host({ appFile, workers: 4, machines: 2, seed: 1234, cwd: dir, clock: 'manual', env: { SHOP_DB: path.join(dir, 'shop.db'), COURSE_CLOCK_START: '1700000000000' } });
    hosts.push(host);
    try {
      await host.start();
      // and the course talks to the workers as a check does: clock moves, queries, pings
      await host.advanceClock(2500);
      const clock = await host.clockState(1);
      await host.settle();
      const views = [];
      for (let k = 1; k <= 4; k++) views.push(await view(host, k));

      // Then no course variable is in the app's environment, nor in the one its process started
      // with (where Node's own IPC variables are, as in any cluster worker: Node removes them from process.env)
      for (const v of views) {
        const keys = [...Object.keys(v.env), ...v.startedWith.filter((k) => !k.startsWith('NODE_CHANNEL_'))];
        assert.deepEqual(keys.filter((k) => /^(COURSE_|GSC_|npm_|INIT_CWD$|NODE_CHANNEL)/i.test(k)), [], `course variables seen: ${keys.join(' ')}`);
        // the lesson's settings are there
        assert.equal(v.env.SHOP_DB, path.join(dir, 'shop.db'));
        // argv[1] is the app, as `node app.js` shows it; the working folder is the host's
        assert.equal(v.argv[1], appFile);
        assert.equal(v.cwd, dir);
        assert.ok(!v.cmdline.some((part) => /worker-main/.test(part)), `cmdline: ${v.cmdline.join(' ')}`);
        // the clock moved (the app's timers ran) and the app heard none of the course's messages
        // (a move first brings the timers level with the real time since the clock started: on
        // a slow machine a second's tick may come on top of the 2.5 s moved)
        assert.ok(v.timers >= 2 && v.timers <= Math.floor((clock!.now - 1_700_000_000_000) / 1000), `timers fired: ${v.timers}`);
        assert.deepEqual(v.heard, []);
      }
      // Each worker is a cluster worker, as a PM2 cluster-mode instance is
      assert.deepEqual(
        views.map((v) => v.cluster),
        [1, 2, 1, 2].map((id) => ({ isWorker: true, isPrimary: false, id, connected: true })),
      );
      // PM2's instance numbers count from 0 on each machine; each machine has its own host name
      assert.deepEqual(views.map((v) => v.env.NODE_APP_INSTANCE), ['0', '1', '0', '1']);
      assert.deepEqual(views.map((v) => v.env.pm_id), ['0', '1', '0', '1']);
      // and the rest of the process record PM2 copies into every instance's environment
      for (const v of views) {
        assert.equal(v.env.exec_mode, 'cluster_mode');
        assert.equal(v.env.instances, '2');
        assert.equal(v.env.pm_exec_path, appFile);
        assert.equal(v.env.name, path.basename(appFile, path.extname(appFile)));
        assert.match(v.env.unique_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.match(v.env.pm_uptime, /^\d{13}$/);
        assert.equal(v.env.instance_var, 'NODE_APP_INSTANCE');
      }
      assert.equal(new Set(views.map((v) => v.env.unique_id)).size, 2, 'one record per PM2 process id, on each machine');
      const names = views.map((v) => v.env.HOSTNAME);
      assert.equal(names[0], names[1]);
      assert.equal(names[2], names[3]);
      assert.notEqual(names[0], names[2]);
      assert.match(names[0], /^web-[0-9a-f]{6}$/);
      // drawn from the seed: the same seed names the machines the same, another seed differently
      assert.deepEqual([machineHostname(1234, 1), machineHostname(1234, 2)], [names[0], names[2]]);
      assert.notEqual(machineHostname(4321, 1), names[0]);
    } finally {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the course process shows the same command line whatever command it runs', async () => {
    // Given `serve` running
    const serve = spawn(process.execPath, [path.join(repo, 'src', 'cli.ts'), 'serve', '1', '--solution', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        serve.stdout!.on('data', (chunk: Buffer) => {
          seen += chunk;
          if (/pid \d+/.test(seen)) resolve();
        });
        serve.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${seen}`)));
      });
      // Then its /proc cmdline names the course only, not the command
      const cmdline = readFileSync(`/proc/${serve.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      assert.deepEqual(cmdline, ['global-state-course']);
    } finally {
      serve.kill('SIGTERM');
      await once(serve, 'exit');
    }
  });
});
