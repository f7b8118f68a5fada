// npm run bench: how fast the course is, each figure next to a floor measured in the same run.
//
// - each lesson's cold `check N --solution` (a fresh course process, as a learner runs it) vs
//   the floor: N bare node processes importing express and listening, started together (N = the
//   lesson's workers); with the processes each check boots and their CPU time;
// - learnyounode's verify of its HTTP exercise next to a cold check 3 (installed from npm into
//   the temp folder; skipped, saying why, when it cannot be);
// - warm save-to-verdict in watch mode (lesson 3, the interactive course's warm pool);
// - reload vs the same spawn floor;
// - dispatcher throughput and added latency vs direct requests to one worker, with the load
//   coming from a second process (autocannon), bounded in requests and time;
// - peak RSS of the course process plus three workers while serving;
// - the Flask track's checks next to the Node track's, interleaved run by run (target: Flask no slower).
// Medians of several runs (BENCH_RUNS, default 5). Arguments pick sections (checks learnyounode
// warm reload dispatcher memory flask); BENCH_LESSONS=3,4 picks lessons; BENCH_COMPARE=path/to/cli.js
// runs another build's command beside this one, run after run (before and after). Results go to stdout and
// to bench-results.json (or BENCH_OUT).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCheck } from '../src/check/engine.ts';
import { lessons, lessonsFor, solutionFile } from '../src/lessons/catalogue.ts';
import { findPython } from '../src/runtime/python/find.ts';
import { Host } from '../src/runtime/host.ts';
import { packageRoot, prewarm, stopSpares } from '../src/runtime/processes.ts';
import { DEBOUNCE_MS } from '../src/ui/use-watch.ts';

const repo = packageRoot; // the repository, also when this runs compiled from .bench/
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const only = process.argv.slice(2);
const results: Record<string, unknown> = { node: process.version, cpus: os.cpus().length, runs: RUNS, at: new Date().toISOString() };

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (n: number) => `${n.toFixed(0)} ms`;
const want = (name: string) => only.length === 0 || only.includes(name);

/** Start N bare processes that import express and listen; resolve once all listen; then kill them. */
async function spawnFloor(n: number): Promise<number> {
  const code = `import('express').then(({default: e}) => { const s = e().listen(0, '127.0.0.1', () => process.stdout.write('up\\n')); process.on('disconnect', () => s.close()); })`;
  const started = performance.now();
  const children = Array.from({ length: n }, () => spawn(process.execPath, ['-e', code], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] }));
  await Promise.all(children.map((c) => new Promise<void>((resolve) => c.stdout!.once('data', () => resolve()))));
  const elapsed = performance.now() - started;
  await Promise.all(children.map((c) => new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill('SIGKILL'); })));
  return elapsed;
}

async function timedCheck(lesson: (typeof lessons)[number]): Promise<number> {
  const result = await runCheck(lesson, { appFile: solutionFile(lesson) });
  if (!result.passed) throw new Error(`lesson ${lesson.number}'s reference fix failed its check`);
  return result.durationMs;
}

// The command as a learner runs it, compiled beside this script (tsconfig.bench.json), with a
// probe that counts the processes it starts and reads its CPU time at exit.
const benchCli = path.join(repo, '.bench', 'src', 'cli.js');
const probe = pathToFileURL(path.join(repo, 'scripts', 'bench-probe.mjs')).href;

interface ColdRun {
  /** Wall time from starting the command to its exit. */
  readonly ms: number;
  /** Processes the run boots, the command itself included. */
  readonly processes: number;
  /** CPU time of the command and every process it waited for (Linux), in ms. */
  readonly cpuMs?: number;
}

/** `check N --solution --json` in a fresh course process, outside any workspace (nothing recorded). */
async function coldCheck(lesson: (typeof lessons)[number], cli = benchCli): Promise<ColdRun> {
  const dir = mkScratch();
  const probeFile = path.join(dir, 'probe.json');
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', probe, cli, 'check', String(lesson.number), '--solution', '--json'], {
    cwd: dir,
    env: { ...process.env, GSC_BENCH_PROBE: probeFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ms = performance.now() - started;
  const result = JSON.parse(out) as { passed?: boolean };
  if (code !== 0 || !result.passed) throw new Error(`check ${lesson.number} --solution did not pass (exit ${code})`);
  const probed = JSON.parse(readFileSync(probeFile, 'utf8')) as { started: number; cpuMs?: number };
  return { ms, processes: 1 + probed.started, cpuMs: probed.cpuMs };
}

/** Another build's CLI to run beside this one, run after run (BENCH_COMPARE=/path/to/dist/cli.js): before and after. */
const compareCli = process.env.BENCH_COMPARE ? path.resolve(process.env.BENCH_COMPARE) : undefined;

const summary = (runs: readonly ColdRun[]) => ({
  medianMs: Math.round(median(runs.map((r) => r.ms))),
  processes: median(runs.map((r) => r.processes)),
  cpuMs: runs.every((r) => r.cpuMs !== undefined) ? median(runs.map((r) => r.cpuMs!)) : undefined,
});

const wantedLessons = () => {
  const numbers = (process.env.BENCH_LESSONS ?? '').split(',').filter(Boolean).map(Number);
  return numbers.length ? lessons.filter((l) => numbers.includes(l.number)) : lessons;
};

async function floorFor(n: number): Promise<number> {
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(await spawnFloor(n));
  return median(times);
}

/**
 * Each lesson's cold `check N --solution` as a learner runs it (a fresh course process), next
 * to the floor measured in the same loop: N bare processes importing express and listening,
 * started together (N = the lesson's workers). Also the processes each check boots.
 */
async function benchChecks(): Promise<void> {
  const rows = [];
  console.log(`\nCold checks: \`check N --solution\` in a fresh course process (reference fix), median of ${RUNS}, floor measured alternately`);
  for (const lesson of wantedLessons()) {
    const floors = [];
    const runs: ColdRun[] = [];
    const compared: ColdRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      floors.push(await spawnFloor(lesson.workers));
      runs.push(await coldCheck(lesson));
      if (compareCli) compared.push(await coldCheck(lesson, compareCli));
    }
    const reloads = lesson.steps.filter((s) => s.reloads).length;
    const time = median(runs.map((r) => r.ms));
    const floor = median(floors);
    const cpu = runs.every((r) => r.cpuMs !== undefined) ? median(runs.map((r) => r.cpuMs!)) : undefined;
    const processes = median(runs.map((r) => r.processes));
    const row = {
      lesson: lesson.slug,
      workers: lesson.workers,
      reloads,
      medianMs: Math.round(time),
      floorMs: Math.round(floor),
      ratio: +(time / floor).toFixed(2),
      cpuMs: cpu,
      processes,
      target: 2.5,
      ...(compareCli ? { compared: { cli: compareCli, ...summary(compared) } } : {}),
    };
    rows.push(row);
    console.log(
      `  ${lesson.slug.padEnd(36)} ${ms(time).padStart(8)} ${`${row.ratio}x`.padEnd(6)} floor ${ms(floor).padStart(7)} (${lesson.workers} worker${lesson.workers > 1 ? 's' : ''})  ` +
        `${processes} processes${cpu !== undefined ? `, CPU ${ms(cpu)}` : ''}${reloads ? `, ${reloads} step${reloads > 1 ? 's' : ''} reloading` : ''}${row.ratio > 2.5 ? '  over the 2.5x target' : ''}`,
    );
    if (row.compared) {
      const c = row.compared;
      console.log(`  ${'  compared build'.padEnd(36)} ${ms(c.medianMs).padStart(8)} ${`${(c.medianMs / floor).toFixed(2)}x`.padEnd(6)} ${''.padEnd(33)}${c.processes} processes${c.cpuMs !== undefined ? `, CPU ${ms(c.cpuMs)}` : ''}`);
    }
  }
  results.checks = rows;
}

/** learnyounode, from npm, in a folder of its own under the system's temp folder (kept between runs). */
async function learnyounode(): Promise<{ verify(): Promise<{ ms: number; passed: boolean }>; version: string } | string> {
  const dir = path.join(os.tmpdir(), 'gsc-bench-learnyounode');
  const bin = path.join(dir, 'node_modules', 'learnyounode', 'bin', 'learnyounode');
  const home = path.join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const run = (command: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(command, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d));
      child.stderr!.on('data', (d: Buffer) => (out += d));
      child.once('error', (error) => resolve({ code: -1, out: error.message }));
      child.once('exit', (code) => resolve({ code, out }));
    });
  if (!existsSync(bin)) {
    // npm as `npm run bench` started it, else the one on the PATH.
    const npm = process.env.npm_execpath;
    const installed = await run(npm ? process.execPath : 'npm', [...(npm ? [npm] : []), 'install', '--no-audit', '--no-fund', '--no-save', '--prefix', dir, 'learnyounode@4']);
    if (installed.code !== 0 || !existsSync(bin)) return `npm install learnyounode failed: ${installed.out.trim().split('\n').slice(-2).join(' ')}`;
  }
  const version = (JSON.parse(readFileSync(path.join(dir, 'node_modules', 'learnyounode', 'package.json'), 'utf8')) as { version: string }).version;
  const env = { ...process.env, HOME: home, USERPROFILE: home };
  const exercise = 'HTTP JSON API SERVER';
  const selected = await run(process.execPath, [bin, 'select', exercise], env);
  if (selected.code !== 0) return `learnyounode select failed: ${selected.out.trim().split('\n').slice(-1)[0]}`;
  const solution = path.join(dir, 'node_modules', 'learnyounode', 'exercises', 'http_json_api_server', 'solution', 'solution.js');
  return {
    version,
    async verify() {
      const started = performance.now();
      const { code } = await run(process.execPath, [bin, 'verify', solution], env);
      return { ms: performance.now() - started, passed: code === 0 };
    },
  };
}

/** Lesson 3's cold check, learnyounode's verify of its HTTP exercise and the floor, run after run. */
async function benchLearnyounode(): Promise<void> {
  const tool = await learnyounode();
  if (typeof tool === 'string') {
    console.log(`\nlearnyounode: skipped (${tool})`);
    return;
  }
  const lesson = lessons[2];
  const floors: number[] = [];
  const checks: number[] = [];
  const verifies: { ms: number; passed: boolean }[] = [];
  for (let i = 0; i < RUNS; i++) {
    floors.push(await spawnFloor(lesson.workers));
    checks.push((await coldCheck(lesson)).ms);
    verifies.push(await tool.verify());
  }
  const passed = verifies.filter((v) => v.passed);
  // learnyounode's verify fails now and then on a busy machine (it connects after a fixed wait): its passing runs count.
  const verify = median((passed.length ? passed : verifies).map((v) => v.ms));
  const check = median(checks);
  const floor = median(floors);
  results.learnyounode = { version: tool.version, exercise: 'HTTP JSON API SERVER', verifyMedianMs: Math.round(verify), verifyPassed: passed.length, runs: RUNS, check3MedianMs: Math.round(check), floorMs: Math.round(floor), ratio: +(check / verify).toFixed(2), target: 0.6 };
  console.log(
    `\nlearnyounode ${tool.version} verify (HTTP JSON API SERVER, ${passed.length}/${RUNS} passed): ${ms(verify)}; cold check 3 ${ms(check)} = ${(check / verify).toFixed(2)}x of it (target <= 0.6x), ${(check / floor).toFixed(2)}x the floor ${ms(floor)}`,
  );
}

/**
 * What a learner waits for in the interactive course's watch mode, lesson 3: from saving the
 * file to the verdict on screen (the check's 'check-end' event), through a file watcher set up
 * as the course's (chokidar, the same debounce), with the warm pool the course keeps (booted
 * again between saves, as it is while a learner reads the verdict and edits).
 */
async function benchWarmSave(): Promise<void> {
  const lesson = lessons[2];
  const dir = mkScratch();
  cpSync(path.dirname(solutionFile(lesson)), dir, { recursive: true });
  const appFile = path.join(dir, path.basename(solutionFile(lesson)));
  const source = readFileSync(appFile, 'utf8');
  const { watch } = await import('chokidar');
  const watcher = watch(dir, { ignoreInitial: true, atomic: true, depth: 3 });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  let onSave: () => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  watcher.on('change', () => {
    clearTimeout(timer);
    timer = setTimeout(() => onSave(), DEBOUNCE_MS);
  });
  // The course shows the verdict at the check's 'check-end' event; the run then stops its workers.
  let verdictAt = 0;
  const check = async () => {
    const result = await runCheck(lesson, { appFile, warmPool: true, onEvent: (event) => event.type === 'check-end' && (verdictAt = performance.now()) });
    if (!result.passed) throw new Error("lesson 3's reference fix failed its check");
    return result.durationMs;
  };
  await stopSpares();
  await check(); // the course's first check: it fills the pool
  const totals = [];
  const checks = [];
  for (let i = 0; i < RUNS; i++) {
    await prewarm(lesson.workers);
    const saved = new Promise<void>((resolve) => (onSave = resolve));
    const started = performance.now();
    writeFileSync(appFile, `${source}\n// save ${i + 1}\n`);
    await saved;
    checks.push(await check());
    totals.push(verdictAt - started);
  }
  await watcher.close();
  await stopSpares();
  const total = median(totals);
  results.warmSave = { lesson: lesson.slug, saveToVerdictMs: Math.round(total), checkMs: Math.round(median(checks)), debounceMs: DEBOUNCE_MS, target: 400 };
  console.log(`\nWarm save-to-verdict, lesson 3 (watch mode, warm pool): ${ms(total)} (target <= 400 ms), of which the check ${ms(median(checks))} and the watcher's debounce ${DEBOUNCE_MS} ms`);
}

async function benchReload(): Promise<void> {
  const host = new Host({ appFile: solutionFile(lessons[2]), workers: 3, cwd: os.tmpdir(), env: lessons[2].seed(mkScratch(), Math.random) });
  await host.start();
  const cold = [];
  const warm = [];
  for (let i = 0; i < RUNS; i++) {
    await stopSpares();
    let t = performance.now();
    await host.reload();
    cold.push(performance.now() - t);
    await prewarm(3);
    t = performance.now();
    await host.reload();
    warm.push(performance.now() - t);
  }
  await host.stop();
  await stopSpares();
  const time = median(cold);
  const warmTime = median(warm);
  const floor = await floorFor(3);
  results.reload = { medianMs: Math.round(time), warmMedianMs: Math.round(warmTime), spawnFloorMs: Math.round(floor), ratio: +(time / floor).toFixed(2), warmRatio: +(warmTime / floor).toFixed(2) };
  console.log(`\nReload of 3 workers: cold ${ms(time)} (${(time / floor).toFixed(2)}x), with warm spares ${ms(warmTime)} (${(warmTime / floor).toFixed(2)}x); spawn floor ${ms(floor)}`);
}

/**
 * Each lesson written for Flask: its reference fix checked on the Flask track and on the Node
 * track, alternately (Node first on even runs, Flask first on odd ones), no spares: a cold check.
 */
async function benchFlask(): Promise<void> {
  const python = await findPython().catch((error: Error) => error);
  if (python instanceof Error) {
    console.log(`\nFlask track: skipped (${python.message})`);
    return;
  }
  console.log(`\nFlask track vs Node track, cold checks (reference fix), median of ${RUNS}, interleaved · Python ${python.version}, Flask ${python.flask}`);
  const rows = [];
  await stopSpares();
  for (const flask of lessonsFor('flask')) {
    const node = lessons.find((l) => l.slug === flask.slug)!;
    const times = { node: [] as number[], flask: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 === 0 ? (['node', 'flask'] as const) : (['flask', 'node'] as const);
      for (const track of order) {
        times[track].push(await timedCheck(track === 'node' ? node : flask));
        await stopSpares();
      }
    }
    const row = { lesson: flask.slug, workers: flask.workers, nodeMedianMs: Math.round(median(times.node)), flaskMedianMs: Math.round(median(times.flask)), ratio: +(median(times.flask) / median(times.node)).toFixed(2), target: 1 };
    rows.push(row);
    console.log(`  ${flask.slug.padEnd(36)} node ${ms(row.nodeMedianMs).padStart(7)}  flask ${ms(row.flaskMedianMs).padStart(7)}  ${row.ratio}x${row.ratio > 1 ? '  Flask slower than Node' : ''}`);
  }
  results.flask = { python: python.version, flaskVersion: python.flask, checks: rows };
}

const scratch: string[] = [];
function mkScratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-bench-'));
  scratch.push(dir);
  return dir;
}

/** Requests per second against `url` from a second process (autocannon), for `seconds`. */
function throughput(url: string, connections: number, seconds: number): Promise<{ rps: number; errors: number }> {
  const script = `
    require('autocannon')({ url: ${JSON.stringify(url)}, connections: ${connections}, duration: ${seconds}, timeout: 5 }, (err, r) => {
      if (err) { console.error(err); process.exit(1); }
      process.stdout.write(JSON.stringify({ rps: r.requests.average, errors: r.errors + r.non2xx }));
    });`;
  return childJson(['-e', script]);
}

/** p50 and p99 latency of sequential requests from a second process, in milliseconds. */
function latency(url: string, count: number): Promise<{ p50: number; p99: number }> {
  return childJson([path.join(repo, 'scripts', 'latency-probe.mjs'), url, String(count)]);
}

function childJson<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`${args[0]} exited with ${code}`))));
  });
}

async function benchDispatcher(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  const apps = [
    { label: 'bare express route', appFile: path.join(repo, 'test', 'fixtures', 'runtime', 'counter.js'), route: '/', env: {} },
    { label: "lesson 3's basket (cookie + SQLite)", appFile: solutionFile(lessons[2]), route: '/api/basket', env: lessons[2].seed(mkScratch(), Math.random) },
  ];
  console.log('\nDispatcher vs direct requests to one worker (load from a second process, 10 connections, 3 s):');
  for (const app of apps) {
    const host = new Host({ appFile: app.appFile, workers: 1, mode: 'concurrent', cwd: os.tmpdir(), env: app.env });
    await host.start();
    const directUrl = `http://127.0.0.1:${await directPort(host)}${app.route}`;
    const viaUrl = `${host.url}${app.route}`;
    const direct = [];
    const via = [];
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      direct.push(await throughput(directUrl, 10, 3));
      via.push(await throughput(viaUrl, 10, 3));
    }
    const latDirect = await latency(directUrl, 3000);
    const latVia = await latency(viaUrl, 3000);
    await host.stop();
    const d = median(direct.map((r) => r.rps));
    const v = median(via.map((r) => r.rps));
    const errors = [...direct, ...via].reduce((sum, r) => sum + r.errors, 0);
    const row = {
      app: app.label,
      directRps: Math.round(d),
      dispatcherRps: Math.round(v),
      ratio: +(v / d).toFixed(2),
      directP50Ms: +latDirect.p50.toFixed(3),
      dispatcherP50Ms: +latVia.p50.toFixed(3),
      addedP50Ms: +(latVia.p50 - latDirect.p50).toFixed(3),
      addedP99Ms: +(latVia.p99 - latDirect.p99).toFixed(3),
      errors,
    };
    rows.push(row);
    console.log(
      `  ${app.label}: direct ${row.directRps} req/s, dispatcher ${row.dispatcherRps} req/s = ${row.ratio}x (target >= 0.8x); ` +
        `added latency p50 ${row.addedP50Ms} ms (target < 1 ms), p99 ${row.addedP99Ms} ms${errors ? `; ${errors} errors` : ''}`,
    );
  }
  results.dispatcher = rows;
}

/** The first worker's own port, read from its ready event on a reload. */
async function directPort(host: Host): Promise<number> {
  const port = new Promise<number>((resolve) => {
    const off = host.events.on((e) => {
      if (e.type === 'worker-ready') {
        off();
        resolve(e.port);
      }
    });
  });
  await host.reload();
  return port;
}

async function benchMemory(): Promise<void> {
  const lesson = lessons[2];
  const host = new Host({ appFile: solutionFile(lesson), workers: 3, cwd: os.tmpdir(), env: lesson.seed(mkScratch(), Math.random) });
  await host.start();
  let peak = 0;
  const sample = async () => {
    const pids = [process.pid, ...host.workers().map((w) => w.pid)];
    let total = 0;
    for (const pid of pids) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    }
    peak = Math.max(peak, total);
  };
  await sample();
  const sampler = setInterval(() => void sample(), 200);
  await throughput(`${host.url}/api/basket`, 10, 3);
  clearInterval(sampler);
  await sample();
  await host.stop();
  results.memory = { peakRssMb: +(peak / 2 ** 20).toFixed(1), target: 400 };
  console.log(`\nPeak RSS, course + 3 workers (lesson 3, under 3 s of load): ${(peak / 2 ** 20).toFixed(0)} MB (target < 400 MB)`);
}

console.log(`global-state-course bench · node ${process.version} · ${os.cpus().length} cpus · ${RUNS} runs`);
// Memory first: the later sections load this process (the course) far more than a learner does.
if (want('memory')) await benchMemory();
if (want('checks')) await benchChecks();
if (want('learnyounode')) await benchLearnyounode();
if (want('warm')) await benchWarmSave();
if (want('reload')) await benchReload();
if (want('dispatcher')) await benchDispatcher();
if (want('flask')) await benchFlask();
const out = process.env.BENCH_OUT ?? path.join(repo, 'bench-results.json');
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nWrote ${out}`);
for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
