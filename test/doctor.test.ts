import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../src/cli/program.ts';
import { checkNode, checkTerminal, leftoverWorkers } from '../src/doctor.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

async function doctor(...args: string[]) {
  let out = '';
  const code = await runCommand(['doctor', ...args], { out: (t) => (out += `${t}\n`), err: (t) => (out += `${t}\n`) });
  return { code, out };
}

test('a fresh workspace is healthy: exit 0, every finding ok or a warning', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-doc-'));
  try {
    await runCommand(['init', path.join(dir, 'ws')], { out: () => {}, err: () => {} });
    const { code, out } = await doctor('--json', '--workspace', path.join(dir, 'ws'));
    assert.equal(code, 0);
    const report = JSON.parse(out) as { healthy: boolean; findings: { item: string; verdict: string }[] };
    assert.equal(report.healthy, true);
    const items = report.findings.map((f) => f.item);
    for (const item of ['Node.js', 'Workspace', 'Progress database', 'Exercise libraries', 'Loopback network', 'Leftover workers', 'Terminal']) {
      assert.ok(items.includes(item), item);
    }
    assert.equal(report.findings.find((f) => f.item === 'Progress database')?.verdict, 'ok');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a deleted lesson file is a problem: exit 1 and the reset command that restores it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-doc-'));
  try {
    const ws = path.join(dir, 'ws');
    await runCommand(['init', ws], { out: () => {}, err: () => {} });
    rmSync(path.join(ws, '02-everyones-list', 'app.js'));
    const { code, out } = await doctor('--workspace', ws);
    assert.equal(code, 1);
    assert.match(out, /✗ Workspace: .*missing 02-everyones-list\/app\.js/);
    assert.match(out, /global-state-course reset 2/);
    assert.match(out, /Problems found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a blocked loopback port is a problem: exit 1, the reason, and what to check', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-doc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await runCommand(['init', path.join(dir, 'ws')], { out: () => {}, err: () => {} });
  // Given a firewall that refuses connections to 127.0.0.1
  t.mock.method(net, 'connect', () => {
    const socket = new net.Socket();
    process.nextTick(() => socket.destroy(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1'), { code: 'ECONNREFUSED' })));
    return socket;
  });
  const { code, out } = await doctor('--workspace', path.join(dir, 'ws'));
  assert.equal(code, 1);
  assert.match(out, /✗ Loopback network: 127\.0\.0\.1 is not usable: connect ECONNREFUSED/);
  assert.match(out, /check firewall or sandbox settings/);
  assert.match(out, /Problems found/);
});

test('Node 20 is a problem that says why; 22.22 and 24 are fine', () => {
  assert.equal(checkNode('20.20.2').verdict, 'problem');
  assert.match(checkNode('20.20.2').detail, /crashes on Node 20/);
  assert.equal(checkNode('22.21.0').verdict, 'problem');
  assert.equal(checkNode('22.22.0').verdict, 'ok');
  assert.equal(checkNode('24.1.0').verdict, 'ok');
});

test('a small terminal is a warning; a pipe means plain commands', () => {
  const small = { isTTY: true, columns: 60, rows: 20, hasColors: () => true, getColorDepth: () => 8 } as unknown as NodeJS.WriteStream;
  assert.equal(checkTerminal(small, {}).verdict, 'warn');
  assert.match(checkTerminal(small, { NO_COLOR: '1' }).detail, /60x20, colour off \(NO_COLOR\)/);
  const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;
  assert.match(checkTerminal(pipe, {}).detail, /plain commands/);
});

test('workers of another course process are found, with their PIDs', async () => {
  const other = spawn(process.execPath, [path.join(here, 'helpers', 'start-host.ts'), path.join(here, 'fixtures', 'runtime', 'counter.js'), '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve) => createInterface({ input: other.stdout! }).once('line', resolve));
    const { pids } = JSON.parse(line) as { pids: number[] };
    const found = leftoverWorkers();
    for (const pid of pids) assert.ok(found.includes(pid), `worker ${pid} of another process is reported`);
  } finally {
    other.kill('SIGKILL');
    await once(other, 'exit');
  }
});
