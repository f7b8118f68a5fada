// One machine of several has a loopback of its own: a fixed port listened on by one machine's
// process is free on another's, as on two real machines; port 0 and other addresses are left alone.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { machineLoopback, onOwnLoopback } from '../src/runtime/own-loopback.ts';

const listening = (server: net.Server, args: unknown[]) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    (server.listen as (...all: unknown[]) => net.Server)(...args, () => resolve());
  });

test('each machine has a 127.x.y.z address of its own, the same for the same name, never 127.0.0.1', () => {
  const [a, b] = [machineLoopback('web-1a2b3c'), machineLoopback('web-4d5e6f')];
  assert.match(a, /^127\.\d+\.\d+\.\d+$/);
  assert.notEqual(a, b);
  assert.equal(machineLoopback('web-1a2b3c'), a);
  assert.notEqual(a, '127.0.0.1');
});

test("a fixed port on the loopback or every address goes to the machine's own; port 0, other hosts and paths stay", () => {
  const own = machineLoopback('web-1');
  assert.deepEqual(onOwnLoopback([4100, '127.0.0.1'], 'web-1'), [4100, own]);
  assert.deepEqual(onOwnLoopback([4100], 'web-1'), [4100, own]);
  assert.deepEqual(onOwnLoopback([{ port: 4100, exclusive: true }], 'web-1'), [{ port: 4100, exclusive: true, host: own }]);
  assert.deepEqual(onOwnLoopback([{ port: 4100, host: 'localhost' }], 'web-1'), [{ port: 4100, host: own }]);
  assert.deepEqual(onOwnLoopback([0, '127.0.0.1'], 'web-1'), [0, '127.0.0.1']);
  assert.deepEqual(onOwnLoopback([{ port: 0 }], 'web-1'), [{ port: 0 }]);
  assert.deepEqual(onOwnLoopback([4100, '10.0.0.5'], 'web-1'), [4100, '10.0.0.5']);
  assert.deepEqual(onOwnLoopback([{ path: '/tmp/app.sock' }], 'web-1'), [{ path: '/tmp/app.sock' }]);
  assert.deepEqual(onOwnLoopback(['\0scheduler'], 'web-1'), ['\0scheduler@web-1']);
});

test('two machines both get a fixed port that one machine gives only once', { skip: process.platform !== 'linux' && '127.0.0.0/8 is all loopback on Linux' }, async () => {
  const servers: net.Server[] = [];
  try {
    const probe = net.createServer();
    await listening(probe, [0, '127.0.0.1']);
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    // Given the first machine's process listening on that port
    const first = net.createServer();
    servers.push(first);
    await listening(first, onOwnLoopback([{ port, host: '127.0.0.1', exclusive: true }], 'web-aaa111'));
    // Then another process of the same machine cannot
    const again = net.createServer();
    servers.push(again);
    await assert.rejects(listening(again, onOwnLoopback([{ port, host: '127.0.0.1', exclusive: true }], 'web-aaa111')), { code: 'EADDRINUSE' });
    // And a process of the second machine can
    const second = net.createServer();
    servers.push(second);
    await listening(second, onOwnLoopback([{ port, host: '127.0.0.1', exclusive: true }], 'web-bbb222'));
    assert.equal((second.address() as net.AddressInfo).port, port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => (server.listening ? server.close(resolve) : resolve(undefined)))));
  }
});
