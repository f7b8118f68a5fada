// Loaded into a `check` run by the bench (node --import): counts the processes the command starts
// and, at exit, writes them with its CPU time (its own and its waited-for children's, from
// /proc on Linux) to the file GSC_BENCH_PROBE names. GSC_ variables never reach the workers.
import { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let started = 0;
const spawn = ChildProcess.prototype.spawn;
ChildProcess.prototype.spawn = function (...args) {
  started++;
  return spawn.apply(this, args);
};

function cpuMs() {
  try {
    // Fields after the command name: utime, stime, cutime, cstime are the 12th to 15th.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) * 10;
  } catch {
    return undefined;
  }
}

process.on('exit', () => {
  const file = process.env.GSC_BENCH_PROBE;
  if (file) writeFileSync(file, JSON.stringify({ started, cpuMs: cpuMs() }));
});
