// Cold start of the interactive course: the time from spawning `node dist/cli.js` in a pseudo-
// terminal to its first frame (the home screen), against the bare cost of a node process that
// imports ink and react and renders one <Text> in the same pseudo-terminal. Runs alternate
// between the two so that load on the machine hits both alike; medians are reported.
//
//   npm run build && node scripts/bench-tui.ts [runs]      (target: ratio <= 1.5)
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');
const runs = Number(process.argv[2] ?? 9);
const TARGET = 1.5;

if (!existsSync(cli)) {
  console.error('dist/cli.js is missing: run `npm run build` first.');
  process.exit(2);
}

// The floor: node + ink + react + one rendered Text, in the alternate screen as the course renders.
const benchDir = path.join(root, '.bench');
mkdirSync(benchDir, { recursive: true });
const baseline = path.join(benchDir, 'ink-hello.mjs');
writeFileSync(
  baseline,
  `import { createElement } from 'react';
import { render, Text } from 'ink';
render(createElement(Text, null, 'ink is ready'), { alternateScreen: true });
setInterval(() => {}, 1000);
`,
);

// The course starts in a workspace, so its first frame is the home screen with the learner's progress.
const workDir = mkdtempSync(path.join(os.tmpdir(), 'gsc-bench-tui-'));
execFileSync(process.execPath, [cli, 'init'], { cwd: workDir, stdio: 'ignore' });

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Milliseconds from spawn until `marker` appears on the pseudo-terminal. */
function timeToFrame(script: string, marker: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const command = `stty cols 80 rows 24; exec ${quote(process.execPath)} ${quote(script)}`;
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
    delete env.CI; // on CI the bare command prints the plain list instead
    const started = performance.now();
    const child = spawn('script', ['-qfc', command, '/dev/null'], { cwd: workDir, env, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    let seen = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`no frame with "${marker}" within 30 s`)), 30_000);
    function finish(error?: Error, ms?: number) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // The course stops its workers on SIGTERM (none run on the home screen); script's group goes with it.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      child.once('exit', () => (error ? reject(error) : resolve(ms!)));
    }
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(marker)) finish(undefined, performance.now() - started);
    });
    child.on('error', (error) => finish(error));
  });
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

try {
  // One warm-up each: the file cache, not the code, is what a first-ever run adds.
  await timeToFrame(baseline, 'ink is ready');
  await timeToFrame(cli, 'Core track');
  const bare: number[] = [];
  const course: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await timeToFrame(baseline, 'ink is ready'));
    course.push(await timeToFrame(cli, 'Core track'));
  }
  const b = median(bare);
  const c = median(course);
  const ratio = c / b;
  const fmt = (values: readonly number[]) => values.map((v) => v.toFixed(0)).join(' ');
  console.log(`runs: ${runs} of each, alternating, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`);
  console.log(`ink + react + one Text:        median ${b.toFixed(0)} ms   (${fmt(bare)})`);
  console.log(`global-state-course home:      median ${c.toFixed(0)} ms   (${fmt(course)})`);
  console.log(`ratio: ${ratio.toFixed(2)}x  (target <= ${TARGET}x: ${ratio <= TARGET ? 'met' : 'NOT met'})`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
