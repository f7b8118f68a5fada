// Starts a host on the given app with N workers, prints {"pids": [...], "url": ...} on one
// line, then waits to be killed. Used to prove that workers die with the course.
import os from 'node:os';
import { Host } from '../../src/runtime/host.ts';

const [appFile, workers = '3'] = process.argv.slice(2);
const host = new Host({ appFile, workers: Number(workers), cwd: os.tmpdir() });
await host.start();
process.stdout.write(`${JSON.stringify({ pids: host.workers().map((w) => w.pid), url: host.url })}\n`);
setInterval(() => {}, 1 << 30);
