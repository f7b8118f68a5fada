// The program each worker process runs: one copy of the learner's app, as a host's worker.
//
// It starts, warms the module cache with the course's exercise libraries, then waits for its
// assignment over IPC (which app, its environment, its folder, its clock). Only then does it
// import the app module, so module-level code runs once per worker start, exactly as on a
// host; a process can wait as a warm spare so that a reload does not pay Node's boot again.
// It serves the app on an ephemeral loopback port and reports over IPC. It exits when the IPC
// channel closes; when the course is gone and the app's code never yields (a busy loop), the
// course's reaper (processes/reaper.ts) ends it.
//
// The app sees what a real host gives it: the course's messages arrive as Node's internal IPC
// messages (never on process.on('message')), the environment holds no course variable (this
// file finds its own configuration without one), and argv[1] is the app file.
//
// Assigned the 'jobs' role it is instead the host's one scheduled-task process: it imports the
// jobs module, calls its default export when that is a function, and serves nothing.
//
// Self-contained on purpose (node built-ins and one library): it starts once per worker, and
// every import here is paid N times on each start and reload.
import type * as Http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import module from 'node:module';
import path from 'node:path';
import timers from 'node:timers';
import timerPromises from 'node:timers/promises';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { COURSE_MESSAGE, type WorkerToHost, type HostToWorker, type AppProblem, type Assignment, type CourseEnvelope } from './protocol.ts';
import { packageRoot as courseRoot } from './package-root.ts';
import { openGate } from './gate-channel.ts';
import { http } from './node-http.ts';
import { cloak } from './cloak.ts';
import { installDataOperations } from './data-ops.ts';
import { trackDatabaseIo, type DatabaseIo } from './clock-io.ts';
import { enableCompileCache } from './compile-cache.ts';

/** Libraries most exercises import: a waiting worker loads them before it has an app. */
const PRELOAD = ['express', 'better-sqlite3', 'cookie-parser'];
/** Those the build bundled into one file each (scripts/bundle-vendor.mjs): loaded from it when it is there. */
const BUNDLED: Readonly<Record<string, string>> = { express: 'express.cjs' };
let appFile = '';
let role: 'web' | 'jobs' = 'web';

function send(message: WorkerToHost): void {
  if (process.connected) process.send?.(message);
}

process.on('disconnect', () => process.exit(0));

// express and the other preloaded libraries compile from the user's cache when they can (the
// app's own files too: Node keys the cache by file and content).
enableCompileCache();

/** Listen to the course's messages: internal IPC messages, which the app's process.on('message') never hears. */
function onCourse(listener: (message: HostToWorker) => void): () => void {
  const onInternal = (envelope: CourseEnvelope) => {
    if (envelope?.cmd === COURSE_MESSAGE) listener(envelope.message);
  };
  const emitter = process as unknown as NodeJS.EventEmitter;
  emitter.on('internalMessage', onInternal);
  return () => emitter.off('internalMessage', onInternal);
}

// Let the learner's files import express, better-sqlite3 and friends from the course package,
// so a workspace needs no install of its own. A learner's own node_modules still wins: the
// course package is tried only when normal resolution fails.
const courseRequire = createRequire(path.join(courseRoot, 'package.json'));
const courseAnchor = pathToFileURL(path.join(courseRoot, 'package.json')).href;
const isBare = (specifier: string) =>
  !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.includes(':');

// Warm the cache with what most exercises import, while the worker has nothing else to do (before
// the resolve hooks below, which every require() of these libraries would otherwise go through).
const preloaded = new Map<string, unknown>();
/** A bundled library's file, by the name the app imports it by (when the copy loaded). */
const bundledFiles = new Map<string, string>();
/** The bundled copy's URL, by the URL of the course package's own copy of the same library. */
const bundledInstead = new Map<string, string>();
for (const name of PRELOAD) {
  const bundle = BUNDLED[name] && path.join(courseRoot, 'dist', 'vendor', BUNDLED[name]);
  try {
    if (bundle && existsSync(bundle)) {
      preloaded.set(name, courseRequire(bundle));
      bundledFiles.set(name, bundle);
      bundledInstead.set(pathToFileURL(courseRequire.resolve(name)).href, pathToFileURL(bundle).href);
      continue;
    }
  } catch {
    /* the package below */
  }
  try {
    preloaded.set(name, courseRequire(name));
  } catch {
    /* the app will say so if it needs it */
  }
}

// The module loaded last: when compiling it fails, it is the one with the syntax error.
let lastLoaded = '';

module.registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith('file:')) lastLoaded = url;
    return nextLoad(url, context);
  },
  resolve(specifier, context, nextResolve) {
    try {
      const resolved = nextResolve(specifier, context);
      // The course package's own copy of a bundled library is the bundled copy (an app in a folder
      // under the course's, as the course's own tests are); a node_modules of the learner's is theirs.
      const bundle = bundledInstead.get(resolved.url);
      return bundle ? { url: bundle, format: 'commonjs', shortCircuit: true } : resolved;
    } catch (error) {
      if (!courseRoot || !isBare(specifier)) throw error;
      const bundle = bundledFiles.get(specifier);
      if (bundle) return { url: pathToFileURL(bundle).href, format: 'commonjs', shortCircuit: true };
      if (context.conditions?.includes('require')) {
        return { url: pathToFileURL(courseRequire.resolve(specifier)).href, shortCircuit: true };
      }
      return nextResolve(specifier, { ...context, parentURL: courseAnchor });
    }
  },
});

// Watch the app's data operations (the gate holds the worker after one when a check forces a race).
installDataOperations({
  gate: openGate(),
  Database: preloaded.get('better-sqlite3'),
  codeRoots: [courseRoot],
});
module.syncBuiltinESMExports();
// Listen for the assignment before anything is awaited: the course sends it as soon as it has
// started this process (a cold start), and a message that finds no listener is lost.
const assigned = new Promise<Assignment>((resolve) => {
  const off = onCourse((message) => {
    if (message.type !== 'assign') return;
    off();
    resolve(message);
  });
});
send({ type: 'waiting' });
const assignment = await assigned;
appFile = assignment.appFile;
role = assignment.role ?? 'web';
Object.assign(process.env, assignment.env);
process.chdir(assignment.cwd);
// Each machine of the deployment has a name of its own, as each container or server has.
if (assignment.env.HOSTNAME) {
  const name = assignment.env.HOSTNAME;
  os.hostname = cloak(() => name, os.hostname);
  module.syncBuiltinESMExports();
}
// As `node app.js` (or a cluster worker of it) shows: its file, and no option of the course's.
process.argv[1] = appFile;
process.title = `node ${appFile}`;
process.execArgv.splice(0, process.execArgv.length);
process.setSourceMapsEnabled(false);
// A web worker is what a PM2 cluster-mode instance is, a node:cluster worker: cluster.isWorker,
// cluster.worker. Node makes a process one at start when NODE_UNIQUE_ID is set, then removes
// the variable; here the same happens before the app is imported. (The worker's own server
// listens `exclusive`, as a cluster worker's would otherwise ask its primary for the port.)
if (role === 'web') {
  process.env.NODE_UNIQUE_ID = String(Number(assignment.env.NODE_APP_INSTANCE ?? 0) + 1);
  (courseRequire('node:cluster') as { _setupWorker(): void })._setupWorker();
  delete process.env.NODE_UNIQUE_ID;
}
// Node's diagnostic report reads the command line and the host name from the process itself.
const realGetReport = process.report.getReport;
process.report.getReport = cloak(function getReport(this: unknown, ...args: unknown[]) {
  const report = Reflect.apply(realGetReport, this, args) as { header?: { commandLine?: string[]; host?: string } };
  if (report?.header) {
    report.header.commandLine = [process.execPath, appFile];
    report.header.host = os.hostname();
  }
  return report;
}, realGetReport) as typeof realGetReport;

// A clock the course drives: timers started by the app fire only when the check advances
// time, so a check about timers takes milliseconds and gives the same verdict every run. The
// date goes on with real time besides, as on any machine (a check moves it further, or holds it
// still for a moment): an app cannot tell a check from people by a date that never moves.
// People using the app (serve, the playground) get the same clock, 'flowing': its timers also fire
// with real time, so the app runs on the same timer functions whether a check or a person is there.
type Clock = { tickAsync(ms: number): Promise<number>; countTimers(): number; setSystemTime(now: number): void; now: number };
let clock: Clock | undefined;
let databaseIo: DatabaseIo | undefined;
/** On the manual clock: the date held still by the course (without the clock's moves since), or undefined while it goes on. */
let heldAt: number | undefined;
/** On the manual clock: the date is real time plus `offset` plus the clock's moves. */
let offset = 0;
/** The date (without the clock's moves) when the timers last stood level with it. */
let level = 0;
/** How much of the clock's moves were the timers catching up with real time (already in the date). */
let caughtUp = 0;
/** On the flowing clock: how far the course moved it (the date is real time plus `offset` plus these). */
let flowingMoves = 0;
/** On the flowing clock, during a move: the fake clock's count when it began. */
let movingFrom: number | undefined;
/** While the timers catch up: the clock's moves when the catching up began (the date stays put meanwhile). */
let catchingFrom: number | undefined;
const RealDate = Date;
if (assignment.clock === 'manual' || assignment.clock === 'flowing') {
  const FakeTimers = courseRequire('@sinonjs/fake-timers') as {
    install(config: object): Clock;
  };
  const manual = assignment.clock === 'manual';
  const realTimers = { setTimeout, clearTimeout, setInterval, clearInterval } as const;
  const realTimerPromises = { setTimeout: timerPromises.setTimeout, setInterval: timerPromises.setInterval, setImmediate: timerPromises.setImmediate };
  const realHandle = realTimers.setTimeout(() => {}, 0);
  realTimers.clearTimeout(realHandle);
  const TimeoutPrototype = Object.getPrototypeOf(realHandle) as object;
  clock = FakeTimers.install({
    // The fake clock counts time for the timers only: the course's moves (and, flowing, real time
    // besides); the date is real time plus the moves, on either clock.
    now: 0,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'],
    shouldAdvanceTime: !manual,
    advanceTimeDelta: 10,
  });
  if (!manual) {
    // Flowing: the date goes on with real time (the fake clock's own count lags it when the
    // machine is busy), plus the course's moves.
    offset = (assignment.clockStart ?? RealDate.now()) - (assignment.clockSentAt ?? RealDate.now());
    const fake = clock;
    // During a move, a timer that fires sees the moment it was due.
    const moved = () => flowingMoves + (movingFrom === undefined ? 0 : fake.now - movingFrom);
    globalThis.Date = courseDate(() => RealDate.now() + offset + moved());
    moveMonotonicClocks(moved);
  } else {
    const moves = clock;
    offset = (assignment.clockStart ?? RealDate.now()) - (assignment.clockSentAt ?? RealDate.now());
    level = RealDate.now() + offset;
    const moved = () => catchingFrom ?? moves.now;
    globalThis.Date = courseDate(() => (heldAt ?? RealDate.now() + offset) + moved());
    moveMonotonicClocks(() => moved() - caughtUp);
    // How far the date has gone on since the timers last stood level with it: a timer set now is
    // due that much later on the timers' count, so that it comes due when the date says.
    dueLater(() => Math.max(0, Math.floor(Date.now() - (level + moves.now))));
  }
  // The clock's timers stand where Node's were, looking like them (cloak.ts): in the global scope,
  // in node:timers, and (timers/promises, util.promisify(setTimeout)) as promises.
  const patched = timers as unknown as Record<string, unknown>;
  for (const name of ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] as const) {
    const fitted = cloak(globalThis[name], realTimers[name]) as never;
    globalThis[name] = fitted;
    patched[name] = fitted;
  }
  const promised = timerPromises as unknown as Record<string, object>;
  for (const [name, real] of Object.entries(realTimerPromises)) {
    if (promised[name] !== real) promised[name] = cloak(promised[name]!, real);
  }
  // A handle looks like Node's: a Timeout.
  const handles = [globalThis.setTimeout, globalThis.setInterval].map((set) => {
    const fitted = cloak(function (this: unknown, ...args: unknown[]) {
      const handle = Reflect.apply(set, this, args) as object;
      if (handle && typeof handle === 'object' && Object.getPrototypeOf(handle) === Object.prototype) Object.setPrototypeOf(handle, TimeoutPrototype);
      return handle;
    }, set);
    return fitted;
  });
  globalThis.setTimeout = handles[0] as typeof setTimeout;
  globalThis.setInterval = handles[1] as typeof setInterval;
  patched.setTimeout = globalThis.setTimeout;
  patched.setInterval = globalThis.setInterval;
  module.syncBuiltinESMExports();
  if (assignment.env.DATABASE_URL) databaseIo = trackDatabaseIo(courseRequire);
}

function locate(error: unknown): Pick<AppProblem, 'file' | 'line' | 'column'> {
  const text = error instanceof Error ? `${error.stack ?? ''}` : '';
  const appDir = path.dirname(appFile);
  const pattern = /(file:\/\/[^\s():]+|\/[^\s():]+):(\d+)(?::(\d+))?/g;
  let first: Pick<AppProblem, 'file' | 'line' | 'column'> = {};
  for (const match of text.matchAll(pattern)) {
    const file = match[1].startsWith('file:') ? fileURLToPath(match[1]) : match[1];
    const found = { file, line: Number(match[2]), column: match[3] ? Number(match[3]) : undefined };
    if (file.startsWith(appDir + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`)) return found;
    if (!first.file) first = found;
  }
  return first.file?.startsWith(appDir) ? first : {};
}

function problem(kind: AppProblem['kind'], error: unknown, message?: string): AppProblem {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    kind,
    message: message ?? `${err.name}: ${err.message}`,
    stack: err.stack,
    ...locate(err),
  };
}

let phase: 'import' | 'serve' = 'import';

function fatal(error: unknown): void {
  send({ type: 'fatal', problem: problem(phase === 'import' ? 'import' : 'crash', error) });
  process.exitCode = 1;
  // Give the IPC message a moment to leave, then go, as a crashing process does.
  setImmediateExit();
}

function setImmediateExit(): void {
  const exit = () => process.exit(1);
  if (process.connected) process.disconnect();
  setImmediate(exit);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

/**
 * A module that does not parse: Node's error carries no location, so ask `node --check` about
 * the module loaded last (the one being compiled), given on standard input as an ES module
 * (checking the file by name lets Node 22 guess its type and miss the error). Undefined when
 * it parses, which means the SyntaxError was thrown by running code (JSON.parse, say).
 */
function syntaxProblem(error: SyntaxError): AppProblem | undefined {
  if (!lastLoaded) return undefined;
  const file = fileURLToPath(lastLoaded);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const check = spawnSync(process.execPath, ['--input-type=module', '--check'], { input: source, encoding: 'utf8', timeout: 5000 });
  if (check.status === 0) return undefined;
  const lines = check.stderr.split('\n');
  const where = /^\[stdin\]:(\d+)$/.exec(lines[0] ?? '');
  const message = lines.find((line) => /^SyntaxError/.test(line)) ?? `${error.name}: ${error.message}`;
  return {
    kind: 'syntax',
    message,
    file,
    line: where ? Number(where[1]) : undefined,
    stack: [`${file}${where ? `:${where[1]}` : ''}`, ...lines.slice(1, 4)].join('\n'),
  };
}

// The course does the listening, as a host does. An app that also calls listen() itself (a
// habit from the dev server) is told so, and the call is ignored instead of grabbing a port.
const realListen = net.Server.prototype.listen;
let ourServer: net.Server | undefined;
net.Server.prototype.listen = cloak(function listen(this: net.Server, ...args: unknown[]) {
  if (this === ourServer) return realListen.apply(this, args as Parameters<typeof realListen>);
  const where = typeof args[0] === 'number' || typeof args[0] === 'string' ? `listen(${JSON.stringify(args[0])})` : 'listen()';
  process.stderr.write(
    `[course] ${path.basename(appFile)} called ${where} itself. On this host the course serves the app's default export on its own port, so that call was ignored: you can remove it.\n`,
  );
  process.nextTick(() => this.emit('listening'));
  return this;
} as typeof realListen, realListen);

type Listener = (req: Http.IncomingMessage, res: Http.ServerResponse) => void;

async function loadApp(): Promise<Listener | undefined> {
  let exported: unknown;
  try {
    const mod = (await import(pathToFileURL(appFile).href)) as Record<string, unknown>;
    exported = mod.default;
    if (exported === undefined && typeof mod['module.exports'] === 'function') exported = mod['module.exports'];
  } catch (error) {
    const syntax = error instanceof SyntaxError ? syntaxProblem(error) : undefined;
    send({ type: 'fatal', problem: syntax ?? problem('import', error) });
    return undefined;
  }
  if (role === 'jobs') return jobsEntry(exported);
  if (exported === undefined || isEmptyObject(exported)) {
    send({
      type: 'fatal',
      problem: {
        kind: 'no-export',
        message: `${isBlank(appFile) ? `${path.basename(appFile)} is empty, so it` : `${path.basename(appFile)}`} exports nothing the host can serve. Build the Express app in it (or a (req, res) function) and end the file with \`export default app\`.`,
        file: appFile,
      },
    });
    return undefined;
  }
  if (typeof exported !== 'function') {
    const shape = exported === null ? 'null' : Array.isArray(exported) ? 'an array' : typeof exported;
    send({
      type: 'fatal',
      problem: {
        kind: 'bad-export',
        message: `The default export is ${shape}, not an app. Export the Express app (or a (req, res) function): \`export default app\`.`,
        file: appFile,
      },
    });
    return undefined;
  }
  return exported as Listener;
}

/** `{}`: what an empty file, or a CommonJS file that sets nothing on module.exports, exports. */
function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype && Object.keys(value).length === 0;
}

function isBlank(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').trim() === '';
  } catch {
    return false;
  }
}

/**
 * The jobs process's entry: a module may run its schedule at module level, or default-export a
 * function that starts it. Its promise, if any, is not awaited (a schedule may never end), but
 * a rejection is reported like a crash.
 */
function jobsEntry(exported: unknown): Listener | undefined {
  if (typeof exported === 'function') {
    try {
      const started = (exported as () => unknown)() as { then?: unknown } | undefined;
      if (typeof started?.then === 'function') Promise.resolve(started).catch(fatal);
    } catch (error) {
      send({ type: 'fatal', problem: problem('import', error) });
      return undefined;
    }
  }
  return () => {};
}

/** Timers set while the date is ahead of the timers' count are due later on it by that much (`lag`). */
function dueLater(lag: () => number): void {
  const fakeSetTimeout = globalThis.setTimeout;
  const fakeSetInterval = globalThis.setInterval;
  const fakeClearTimeout = globalThis.clearTimeout;
  const fakeClearInterval = globalThis.clearInterval;
  const delayOf = (delay: unknown) => Math.max(0, Number(delay) || 0);
  /** An interval set while behind: its first call's timeout, and the interval it starts. */
  const started = new Map<number, { repeating?: ReturnType<typeof setInterval> }>();
  globalThis.setTimeout = function setTimeout(handler: (...a: unknown[]) => void, delay?: number, ...args: unknown[]) {
    return fakeSetTimeout(handler, delayOf(delay) + lag(), ...args);
  } as typeof globalThis.setTimeout;
  globalThis.setInterval = function setInterval(handler: (...a: unknown[]) => void, delay?: number, ...args: unknown[]) {
    const late = lag();
    if (late === 0) return fakeSetInterval(handler, delay, ...args);
    const entry: { repeating?: ReturnType<typeof setInterval> } = {};
    const first = fakeSetTimeout(() => {
      entry.repeating = fakeSetInterval(handler, delay, ...args);
      handler(...args);
    }, delayOf(delay) + late);
    started.set(Number(first), entry);
    return first;
  } as typeof globalThis.setInterval;
  globalThis.clearInterval = function clearInterval(handle?: string | number | NodeJS.Timeout) {
    const entry = handle === undefined ? undefined : started.get(Number(handle));
    if (!entry) return fakeClearInterval(handle);
    started.delete(Number(handle));
    fakeClearTimeout(handle as ReturnType<typeof setTimeout>);
    if (entry.repeating !== undefined) fakeClearInterval(entry.repeating);
  } as typeof globalThis.clearInterval;
}

/**
 * The monotonic clocks (performance.now, process.hrtime, process.uptime, os.uptime) move with the course's
 * moves too, so that a night passed by the check is a night by every clock the app can read, not
 * a jump of the date alone: a worker that has lived a week by the check's clock is a week old.
 */
function moveMonotonicClocks(moved: () => number): void {
  const ownPerformanceNow = performance.now;
  const realPerformanceNow = ownPerformanceNow.bind(performance);
  performance.now = cloak(function now() {
    return realPerformanceNow() + moved();
  }, ownPerformanceNow);
  const realHrtime = process.hrtime;
  const realBigint = process.hrtime.bigint;
  const NS = 1_000_000_000n;
  const bigint = () => realBigint() + BigInt(Math.round(moved() * 1e6));
  const hrtime = (previous?: [number, number]): [number, number] => {
    let ns = bigint();
    if (previous) ns -= BigInt(previous[0]) * NS + BigInt(previous[1]);
    return [Number(ns / NS), Number(ns % NS)];
  };
  hrtime.bigint = cloak(bigint, realBigint);
  process.hrtime = cloak(hrtime, realHrtime) as typeof realHrtime;
  const realUptime = process.uptime;
  process.uptime = cloak(function uptime() {
    return realUptime() + moved() / 1000;
  }, realUptime);
  // The machine's uptime, in hundredths of a second as Linux gives it.
  const realOsUptime = os.uptime;
  os.uptime = cloak(function uptime() {
    return Math.round((realOsUptime() + moved() / 1000) * 100) / 100;
  }, realOsUptime);
}

/**
 * The Date the app sees on the manual clock: the real Date in every way but the present moment,
 * which is `present()` (`new Date()`, `Date.now()`, `Date()`).
 */
function courseDate(present: () => number): DateConstructor {
  // A function, not a Proxy (util.types.isProxy would tell), standing for Date in every way:
  // its prototype (whose constructor it becomes), its statics, its name, length and source.
  const CourseDate = function Date(this: unknown, ...args: unknown[]) {
    if (!new.target) return new RealDate(present()).toString();
    return Reflect.construct(RealDate, args.length ? args : [present()], new.target === CourseDate ? RealDate : new.target);
  } as unknown as DateConstructor;
  Object.defineProperty(CourseDate, 'prototype', { value: RealDate.prototype, writable: false, enumerable: false, configurable: false });
  Object.defineProperty(RealDate.prototype, 'constructor', { value: CourseDate, writable: true, enumerable: false, configurable: true });
  // An arrow, as Date.now has no prototype either; cloak() gives it Date.now's name and length.
  const courseNow = cloak(() => present(), RealDate.now);
  for (const key of Reflect.ownKeys(RealDate)) {
    if (key === 'prototype' || key === 'name' || key === 'length') continue;
    const descriptor = Object.getOwnPropertyDescriptor(RealDate, key)!;
    Object.defineProperty(CourseDate, key, key === 'now' ? { ...descriptor, value: courseNow } : descriptor);
  }
  return cloak(CourseDate, RealDate);
}

/**
 * Move the clock `ms` on. Between the course's moves the date goes on and the timers wait, as on a
 * machine whose event loop is busy; so on the manual clock the timers first catch up with the
 * date (those due by then fire, late, the date going on as it was), then the move is made: a
 * timer set for 03:00 by the date fires when the date reaches 03:00.
 */
async function advance(running: Clock, ms: number): Promise<void> {
  const step = (by: number) => (databaseIo ? databaseIo.advance(running, by) : running.tickAsync(by).then(() => {}));
  const late = assignment.clock === 'manual' ? Math.max(0, Math.floor((heldAt ?? RealDate.now() + offset) - level)) : 0;
  if (late > 0) {
    catchingFrom = running.now;
    try {
      await step(late);
    } finally {
      offset -= late;
      if (heldAt !== undefined) heldAt -= late;
      caughtUp += late;
      catchingFrom = undefined;
    }
  }
  if (assignment.clock !== 'flowing') return step(ms);
  movingFrom = running.now;
  try {
    await step(ms);
  } finally {
    movingFrom = undefined;
    flowingMoves += ms;
  }
}

function answerClock(message: HostToWorker): boolean {
  if (message.type === 'clock-hold') {
    if (assignment.clock === 'manual' && clock) heldAt = message.hold ? message.at - clock.now : undefined;
    send({ type: 'clock-held', id: message.id, now: Date.now() });
    return true;
  }
  if (message.type === 'clock-advance') {
    const done = () => send({ type: 'clock-advanced', id: message.id, now: Date.now() });
    if (!clock) done();
    else advance(clock, message.ms).then(done, fatal);
    return true;
  }
  if (message.type === 'clock-query') {
    send({ type: 'clock-state', id: message.id, now: Date.now(), timers: clock ? clock.countTimers() : null });
    return true;
  }
  if (message.type === 'ping') {
    send({ type: 'pong', id: message.id });
    return true;
  }
  return false;
}

const app = await loadApp();
if (!app) {
  setImmediateExit();
} else if (role === 'jobs') {
  phase = 'serve';
  send({ type: 'ready', port: 0, pid: process.pid });
  onCourse((message) => {
    if (answerClock(message)) return;
    if (message.type === 'stop') {
      process.disconnect();
      process.exit(0);
    }
  });
} else {
  phase = 'serve';
  // The app itself listens for requests, as with http.createServer(app) on a real host: no frame
  // of the course's stands between Node's and the app's in a stack trace.
  const server = http.createServer(app);
  ourServer = server;
  server.keepAliveTimeout = 60_000;
  server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    send({ type: 'ready', port, pid: process.pid });
  });
  onCourse((message) => {
    if (answerClock(message)) return;
    if (message.type === 'stop') {
      server.close();
      server.closeAllConnections();
      process.disconnect();
      process.exit(0);
    }
  });
}
