// npm run bench: how fast the course is, each figure next to a floor measured in the same run.
//
// - each lesson's check (reference fix) vs the floor: N bare node processes importing express
//   and listening, started together (N = the lesson's workers);
// - reload vs the same spawn floor;
// - dispatcher throughput and added latency vs direct requests to one worker, with the load
//   coming from a second process (autocannon), bounded in requests and time;
// - peak RSS of the course process plus three workers while serving;
// - the Flask track's checks next to the Node track's, interleaved run by run (target: Flask no slower).
// Medians of several runs. Results go to stdout and to bench-results.json (or BENCH_OUT).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCheck } from '../src/check/engine.ts';
import { lessons, lessonsFor, solutionFile } from '../src/lessons/catalogue.ts';
import { findPython } from '../src/runtime/python/find.ts';
import { Host } from '../src/runtime/host.ts';
import { packageRoot, prewarm, stopSpares } from '../src/runtime/processes.ts';

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

async function floorFor(n: number): Promise<number> {
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(await spawnFloor(n));
  return median(times);
}

async function benchChecks(): Promise<void> {
  const floors = new Map<number, number>();
  const rows = [];
  console.log('\nChecks (reference fix), median of', RUNS, '(cold: a fresh course process; warm: spare workers booted)');
  for (const lesson of lessons) {
    if (!floors.has(lesson.workers)) floors.set(lesson.workers, await floorFor(lesson.workers));
    const floor = floors.get(lesson.workers)!;
    // Cold: no spare processes, as a one-shot `check` from the shell. Warm: spares booted, as
    // inside the interactive course after its first check.
    const cold = [];
    const warm = [];
    for (let i = 0; i < RUNS; i++) {
      await stopSpares();
      cold.push(await timedCheck(lesson));
      await prewarm(lesson.workers);
      warm.push(await timedCheck(lesson));
    }
    await stopSpares();
    const reloads = lesson.steps.filter((s) => s.reloads).length;
    const time = median(cold);
    const warmTime = median(warm);
    const row = {
      lesson: lesson.slug,
      workers: lesson.workers,
      reloads,
      medianMs: Math.round(time),
      warmMedianMs: Math.round(warmTime),
      floorMs: Math.round(floor),
      ratio: +(time / floor).toFixed(2),
      warmRatio: +(warmTime / floor).toFixed(2),
      target: 2.5,
    };
    rows.push(row);
    console.log(
      `  ${lesson.slug.padEnd(36)} cold ${ms(time).padStart(7)} ${`${row.ratio}x`.padEnd(6)} warm ${ms(warmTime).padStart(7)} ${`${row.warmRatio}x`.padEnd(6)} floor ${ms(floor).padStart(7)} (${lesson.workers} worker${lesson.workers > 1 ? 's' : ''})${reloads ? `, ${reloads} reload${reloads > 1 ? 's' : ''} (${1 + reloads} starts)` : ''}${row.ratio > 2.5 ? '  cold over the 2.5x target' : ''}`,
    );
  }
  results.checks = rows;
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
if (want('reload')) await benchReload();
if (want('dispatcher')) await benchDispatcher();
if (want('flask')) await benchFlask();
const out = process.env.BENCH_OUT ?? path.join(repo, 'bench-results.json');
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nWrote ${out}`);
for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
