// No process outlives the course, however the course ends.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { alive, allGone } from './helpers/processes.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const counter = path.join(here, 'fixtures', 'runtime', 'counter.js');

/** Resolve with the first stdout line matching `pattern`; reject if the process exits first. */
function lineMatching(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    let seen = '';
    rl.on('line', (line) => {
      seen += `${line}\n`;
      if (pattern.test(line)) {
        rl.close();
        resolve(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}; printed:\n${seen}`)));
  });
}

describe('no worker survives the course', () => {
  test('SIGKILL of the course process: every worker exits on its own', async () => {
    const course = spawn(process.execPath, [path.join(here, 'helpers', 'start-host.ts'), counter, '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const { pids, url } = JSON.parse(await lineMatching(course, /^\{"pids"/)) as { pids: number[]; url: string };
    assert.equal(pids.length, 3);
    assert.ok(pids.every(alive));
    assert.equal((await fetch(url)).status, 200);
    course.kill('SIGKILL');
    await once(course, 'exit');
    assert.ok(await allGone(pids), `workers still alive after SIGKILL: ${pids.filter(alive)}`);
  });

  test('a host stopped before it started (quitting while the playground loads) starts no worker', async () => {
    const child = spawn(process.execPath, [path.join(here, 'helpers', 'stop-then-start.ts'), counter], { stdio: ['ignore', 'pipe', 'inherit'] });
    const { error, pids } = JSON.parse(await lineMatching(child, /^\{"error"/)) as { error: string | null; pids: number[] };
    await once(child, 'exit');
    assert.deepEqual(pids, [], 'workers started after the stop');
    assert.match(error ?? 'it started', /stopped before it started/);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} to \`serve\`: it stops every worker, frees the port and exits 0`, async () => {
      const serve = spawn(process.execPath, [path.join(repo, 'src', 'cli.ts'), 'serve', '3', '--solution', '--port', '0'], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, NO_COLOR: '1' },
      });
      const header = await lineMatching(serve, /worker.*pid \d+/);
      const pids = [...header.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      assert.equal(pids.length, 3, header);
      serve.kill(signal);
      const [code, killedBy] = (await once(serve, 'exit')) as [number | null, string | null];
      assert.equal(code, 0, `serve ended by ${killedBy}`);
      assert.ok(await allGone(pids), `workers still alive after ${signal}: ${pids.filter(alive)}`);
    });
  }

  test('serve on a busy port says so and suggests --port 0, exit 2', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as import('node:net').AddressInfo).port;
    try {
      const serve = spawn(process.execPath, [path.join(repo, 'src', 'cli.ts'), 'serve', '2', '--solution', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      serve.stderr!.on('data', (d: Buffer) => (err += d));
      const [code] = (await once(serve, 'exit')) as [number | null];
      assert.equal(code, 2);
      assert.match(err, new RegExp(`Port ${port} is already in use.*--port 0`));
    } finally {
      blocker.close();
    }
  });
});
