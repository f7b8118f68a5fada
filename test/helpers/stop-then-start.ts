// Stops a host before starting it (the course quitting while a playground still loads), then
// starts it; prints {"error": message or null, "pids": workers that started} and exits, so a
// host that starts anyway shows up as a failure instead of holding the test process open.
import os from 'node:os';
import { Host } from '../../src/runtime/host.ts';

const [appFile] = process.argv.slice(2);
const host = new Host({ appFile, workers: 2, cwd: os.tmpdir() });
const pids: number[] = [];
host.events.on((e) => {
  if (e.type === 'worker-starting') pids.push(e.pid);
});
await host.stop();
const error = await host.start().then(
  () => null,
  (e: Error) => e.message,
);
process.stdout.write(`${JSON.stringify({ error, pids })}\n`);
process.exit(0);
