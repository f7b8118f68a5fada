// Starts a host on the given app with N workers and reports on stdout, one JSON object a line:
// {"pids": [...], "url": ...} once every worker process has started (before the app is ready:
// an app may never be), then {"output": line} for each line a worker prints. Waits to be killed.
import os from 'node:os';
import { Host } from '../../src/runtime/host.ts';

const [appFile, workers = '2'] = process.argv.slice(2);
const host = new Host({ appFile, workers: Number(workers), cwd: os.tmpdir(), startTimeoutMs: 60_000 });
const pids: number[] = [];
host.events.on((event) => {
  if (event.type === 'worker-starting') {
    pids.push(event.pid);
    if (pids.length === Number(workers)) process.stdout.write(`${JSON.stringify({ pids, url: host.url })}\n`);
  }
  if (event.type === 'worker-output') process.stdout.write(`${JSON.stringify({ output: event.line })}\n`);
});
host.start().catch(() => {});
setInterval(() => {}, 1 << 30);
