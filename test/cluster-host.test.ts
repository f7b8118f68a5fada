// `serve --host cluster`: the learner's app on Node's own node:cluster (one shared port, the
// primary hands out connections in turn), as a real host runs it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchWorkspace } from './helpers/cli.ts';
import { alive, allGone } from './helpers/processes.ts';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

interface Served {
  readonly child: ChildProcess;
  readonly port: number;
  /** The primary's and the cluster workers' pids. */
  readonly pids: readonly number[];
  printed(): string;
}

async function serveOnCluster(t: TestContext, ...args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [path.join(repo, 'src', 'cli.ts'), 'serve', '3', '--host', 'cluster', '--workers', '3', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', NODE_TEST_CONTEXT: undefined },
  });
  t.after(() => child.kill('SIGKILL'));
  let printed = '';
  child.stdout!.on('data', (d: Buffer) => (printed += d));
  child.stderr!.on('data', (d: Buffer) => (printed += d));
  const text = await waitForText(() => printed, /Open http:\/\/127\.0\.0\.1:\d+\//, child);
  const header = /3 cluster workers \(pid (\d+), pid (\d+), pid (\d+)\) behind the primary \(pid (\d+)\)/.exec(text);
  assert.ok(header, text);
  return { child, port: Number(/127\.0\.0\.1:(\d+)/.exec(text)![1]), pids: header.slice(1).map(Number), printed: () => printed };
}

/** One request on a connection of its own (no keep-alive): the primary hands it to the next worker. */
function fresh(port: number, method: string, route: string, body?: unknown): Promise<{ status: number; json: { items?: string[] } }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { host: '127.0.0.1', port, method, path: route, agent: false, headers: { cookie: 'visitor=alice', ...(payload ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { items?: string[] } }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Alice adds tea, then asks for her basket six times, each over a fresh connection. */
async function addThenLook(port: number): Promise<string[][]> {
  const added = await fresh(port, 'POST', '/api/basket', { item: 'tea' });
  assert.equal(added.status, 201);
  const seen: string[][] = [];
  for (let i = 0; i < 6; i++) {
    const got = await fresh(port, 'GET', '/api/basket');
    assert.equal(got.status, 200);
    seen.push(got.json.items ?? []);
  }
  return seen;
}

/** SIGTERM: serve exits 0, no process of it is left, the port is free again. */
async function stopsCleanly(served: Served): Promise<void> {
  served.child.kill('SIGTERM');
  const [code] = (await once(served.child, 'exit')) as [number | null];
  assert.equal(code, 0, served.printed());
  assert.match(served.printed(), /Stopped; the primary and every cluster worker have exited\./);
  assert.ok(await allGone(served.pids), `left running: ${served.pids.join(', ')}`);
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(served.port, '127.0.0.1', resolve);
  });
  await new Promise((resolve) => probe.close(resolve));
}

describe('serve --host cluster', () => {
  test("lesson 3's starter on node:cluster: tea added on one worker is missing on the others; told about its own listen()", async (t) => {
    const scratch = await scratchWorkspace('gsc-cluster-');
    t.after(scratch.done);
    // Given the starter, with a listen() call of the learner's own
    const file = path.join(scratch.ws, '03-two-workers-two-lists', 'app.js');
    writeFileSync(file, readFileSync(file, 'utf8').replace('export default app;', 'app.listen(3000);\nexport default app;'));
    const served = await serveOnCluster(t, '--workspace', scratch.ws);
    // When Alice adds tea and looks six times over fresh connections
    const seen = await addThenLook(served.port);
    // Then some answers show it and some do not: each cluster worker has its own Map
    assert.ok(seen.some((items) => items.includes('tea')), JSON.stringify(seen));
    assert.ok(seen.some((items) => !items.includes('tea')), JSON.stringify(seen));
    // and every request was logged with the cluster worker that served it, more than one of them
    await waitForText(served.printed, /(GET +\/api\/basket +→ worker \d +200[^\n]*\n[^]*){6}/, served.child);
    const workers = new Set([...served.printed().matchAll(/GET +\/api\/basket +→ worker (\d)/g)].map((m) => m[1]));
    assert.ok(workers.size > 1, served.printed());
    assert.match(served.printed(), /Your app calls listen\(3000\) itself\./);
    await stopsCleanly(served);
  });

  test('kill -9 of the course: cluster workers stuck in a busy loop are ended too, and the primary', async (t) => {
    const scratch = await scratchWorkspace('gsc-cluster-spin-');
    t.after(scratch.done);
    // Given an app whose /spin handler never yields, served on node:cluster
    copyFileSync(path.join(repo, 'test', 'fixtures', 'runtime', 'spins-in-handler.js'), path.join(scratch.ws, '03-two-workers-two-lists', 'app.js'));
    const served = await serveOnCluster(t, '--workspace', scratch.ws);
    // and every cluster worker spinning in it (each fresh connection goes to the next worker)
    for (let i = 0; i < 3; i++) {
      const socket = net.connect(served.port, '127.0.0.1', () => socket.write('GET /spin HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('error', () => {});
      t.after(() => socket.destroy());
    }
    await waitForText(served.printed, /(spinning[^]*){3}/, served.child);
    // When the course is SIGKILLed, then none of them is left
    served.child.kill('SIGKILL');
    await once(served.child, 'exit');
    assert.ok(await allGone(served.pids, 5000), `still alive 5 s after SIGKILL of the course: ${served.pids.filter(alive)}`);
  });

  test("lesson 3's reference fix on node:cluster: every worker shows the tea", async (t) => {
    const served = await serveOnCluster(t, '--solution');
    const seen = await addThenLook(served.port);
    assert.deepEqual(seen, Array.from({ length: 6 }, () => ['tea']));
    assert.doesNotMatch(served.printed(), /calls listen/);
    await stopsCleanly(served);
  });
});

/** Resolves with the text once it matches `pattern`; fails if `child` exits first or after `ms`. */
async function waitForText(text: () => string, pattern: RegExp, child: ChildProcess, ms = 60_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (!pattern.test(text())) {
    if (child.exitCode !== null || child.signalCode !== null) assert.fail(`exited before printing ${pattern}:\n${text()}`);
    if (Date.now() > deadline) assert.fail(`did not print ${pattern} within ${ms} ms:\n${text()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return text();
}
