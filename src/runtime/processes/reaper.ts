// The reaper: one small shell per course process that ends the course's workers when the course
// is gone, however it went (SIGKILL included). A worker ends by itself when its IPC channel
// closes, but only when its event loop runs; a learner's app that never yields (a busy loop at
// import or in a handler) would keep it alive at full CPU. The reaper does not depend on them.
//
// The course tells it each worker's pid as the worker starts (+pid) and as it exits (-pid), on
// the reaper's standard input. When that input ends (the kernel closes it when the course dies)
// the reaper SIGKILLs the pids still listed, and exits. It ignores the terminal's signals: a
// Ctrl-C reaches the course, which stops its workers in order, and the reaper goes after it.
// It is a POSIX shell loop of builtins (no process per line), so it costs about nothing.
import type { Writable } from 'node:stream';
import { execa } from './execa.ts';

const SCRIPT = `
trap '' INT TERM HUP QUIT
pids=' '
while IFS= read -r line; do
  case $line in
    +*) pids="$pids\${line#+} " ;;
    -*) p=\${line#-}
        case $pids in *" $p "*) pids="\${pids%%" $p "*} \${pids#*" $p "}" ;; esac ;;
  esac
done
for p in $pids; do kill -9 "$p" 2>/dev/null; done
`;

let input: Writable | undefined;
let broken = false;

function reaper(): Writable | undefined {
  if (input || broken) return input;
  const child = execa('/bin/sh', ['-c', SCRIPT], {
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'ignore',
    reject: false,
    cleanup: false,
    buffer: false,
  });
  const stream = child.stdin;
  if (!stream) {
    broken = true;
    return undefined;
  }
  // A reaper that could not start (no /bin/sh) or ended is not used again; workers still end
  // with their IPC channel.
  const lost = () => {
    broken = true;
    input = undefined;
  };
  stream.on('error', lost);
  void child.then(lost);
  // It never keeps the course alive.
  child.nodeChildProcess.unref();
  (stream as unknown as { unref?(): void }).unref?.();
  input = stream;
  return input;
}

/** Have the reaper end process `pid` if the course goes while it runs. */
export function reapIfOrphaned(pid: number | undefined): void {
  if (pid && pid > 0) reaper()?.write(`+${pid}\n`);
}

/** Process `pid` has exited: its number may be another process's soon. */
export function forget(pid: number | undefined): void {
  if (pid && pid > 0 && input) input.write(`-${pid}\n`);
}
