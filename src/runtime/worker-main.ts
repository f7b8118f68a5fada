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
import { installWorkerClock } from './worker-clock.ts';
import { busyPool } from './busy-pool.ts';
import { enableCompileCache } from './compile-cache.ts';
import { reportUncaught } from './worker-crashes.ts';
import { onOwnLoopback } from './own-loopback.ts';

/** Libraries most exercises import: a waiting worker loads them before it has an app. */
const PRELOAD = ['express', 'better-sqlite3', 'cookie-parser'];
/** Those the build bundled into one file each (scripts/bundle-vendor.mjs): loaded from it when it is there. */
const BUNDLED: Readonly<Record<string, string>> = { express: 'express.cjs' };
let appFile = '';
let role: 'web' | 'jobs' = 'web';
/** The name of the machine whose own loopback the app's servers listen on, when it is one of several. */
let loopbackOf: string | undefined;

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
  // The course's own code and libraries, not the whole package: an app kept inside a clone of the
  // course (a fixture, a workspace there) writes data files beside it, and they are data.
  codeRoots: ['dist', 'src', 'node_modules'].map((folder) => path.join(courseRoot, folder)),
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
// One machine of several has a loopback of its own (own-loopback.ts), named by the machine.
loopbackOf = assignment.ownLoopback && assignment.env.HOSTNAME ? assignment.env.HOSTNAME : undefined;
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

const clock = installWorkerClock(assignment, courseRequire);
// Its database connections, pooled as on a host with visitors (see busy-pool.ts).
if (assignment.env.DATABASE_URL) busyPool(courseRequire);

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

reportUncaught(fatal);

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

// The course does the listening, as a host does. An app that also calls listen() itself for the
// app it exports (a habit from the dev server, `app.listen(3000)`) is told so, and the call is
// ignored instead of grabbing a port. Any other server the app opens (a metrics port, a lock)
// listens as it asks. Which is which is known once the app is imported: a listen() meanwhile
// waits for it.
const realListen = net.Server.prototype.listen;
let ourServer: net.Server | undefined;
/** The app's default export, once imported; undefined while the import runs. */
let served: unknown;
const waitingToListen: Array<{ server: net.Server; args: unknown[] }> = [];
net.Server.prototype.listen = cloak(function listen(this: net.Server, ...args: unknown[]) {
  if (this === ourServer) return realListen.apply(this, args as Parameters<typeof realListen>);
  if (served === undefined && phase === 'import') waitingToListen.push({ server: this, args });
  else listenAsAsked(this, args);
  return this;
} as typeof realListen, realListen);

/** listen() as the app asked, unless the server serves the exported app (see above). */
function listenAsAsked(server: net.Server, args: unknown[]): void {
  if (served === undefined || !server.listeners('request').includes(served as never)) {
    const asked = role === 'web' ? bindingItself(args) : args;
    realListen.apply(server, (loopbackOf ? onOwnLoopback(asked, loopbackOf) : asked) as Parameters<typeof realListen>);
    return;
  }
  const where = typeof args[0] === 'number' || typeof args[0] === 'string' ? `listen(${JSON.stringify(args[0])})` : 'listen()';
  process.stderr.write(
    `[course] ${path.basename(appFile)} called ${where} itself. On this host the course serves the app's default export on its own port, so that call was ignored: you can remove it.\n`,
  );
  const callback = args.at(-1);
  if (typeof callback === 'function') server.once('listening', callback as () => void);
  process.nextTick(() => server.emit('listening'));
}

/**
 * A cluster worker's listen() on a TCP port asks its primary for a shared handle; this worker's
 * parent is the course, so the server binds the port itself, shared with the other workers as a
 * cluster's primary shares it (SO_REUSEPORT), unless it asked for a port of its own (exclusive).
 */
function bindingItself(args: unknown[]): unknown[] {
  const last = args.at(-1);
  const callback = typeof last === 'function' ? [last] : [];
  const first = args[0];
  if (first !== null && typeof first === 'object' && !('fd' in first) && !('_handle' in first) && !('path' in first)) {
    const options = first as net.ListenOptions;
    return options.exclusive ? args : [{ ...options, exclusive: true, reusePort: true }, ...callback];
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const rest = args.slice(1, callback.length ? -1 : undefined);
    const host = typeof rest[0] === 'string' ? { host: rest[0] } : {};
    const backlog = typeof rest[rest.length - 1] === 'number' ? { backlog: rest[rest.length - 1] as number } : {};
    return [{ port: Number(first), ...host, ...backlog, exclusive: true, reusePort: true }, ...callback];
  }
  if (first === undefined || typeof first === 'function') return [{ port: 0, exclusive: true, reusePort: true }, ...callback];
  return args;
}

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


const app = await loadApp();
served = app ?? null;
for (const { server, args } of waitingToListen.splice(0)) listenAsAsked(server, args);
if (!app) {
  setImmediateExit();
} else if (role === 'jobs') {
  phase = 'serve';
  send({ type: 'ready', port: 0, pid: process.pid });
  onCourse((message) => {
    if (clock.answer(message, send, fatal)) return;
    if (message.type === 'ping') return send({ type: 'pong', id: message.id });
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
    if (clock.answer(message, send, fatal)) return;
    if (message.type === 'ping') return send({ type: 'pong', id: message.id });
    // One thread: requests that arrive together are served one after another up to their first
    // await, as on any Node host. Nothing to arrange.
    if (message.type === 'arrive-together') return send({ type: 'arriving', id: message.id });
    if (message.type === 'stop') {
      server.close();
      server.closeAllConnections();
      process.disconnect();
      process.exit(0);
    }
  });
}
