// The program of each node:cluster worker under `serve --host cluster` (cluster-primary.ts
// forks it): it imports the learner's app and serves it on the port every worker shares, as a
// PM2 cluster-mode instance does. It reports each finished request to the primary, and exits
// when its channel to the primary closes (the primary is gone, however it went).
//
// As on the course host, the app's bare imports (express, better-sqlite3…) resolve from the
// course package when the workspace has none of its own, and an app that calls listen()
// itself is told so (on a real cluster that call would compete for the port); the call is ignored.
import http from 'node:http';
import module, { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ClusterWorkerToPrimary } from './cluster-protocol.ts';
import type { AppProblem } from './protocol.ts';
import { packageRoot as courseRoot } from './package-root.ts';

const [appFile = '', portText = '0'] = process.argv.slice(2);
// The app sees the argv a host gives it: node and its own file.
process.argv.splice(1, process.argv.length - 1, appFile);

function send(message: ClusterWorkerToPrimary): void {
  if (process.connected) process.send?.(message);
}
process.on('disconnect', () => process.exit(0));

const courseRequire = createRequire(path.join(courseRoot, 'package.json'));
const courseAnchor = pathToFileURL(path.join(courseRoot, 'package.json')).href;
const isBare = (specifier: string) => !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.includes(':');
module.registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!courseRoot || !isBare(specifier)) throw error;
      if (context.conditions?.includes('require')) return { url: pathToFileURL(courseRequire.resolve(specifier)).href, shortCircuit: true };
      return nextResolve(specifier, { ...context, parentURL: courseAnchor });
    }
  },
});

const realListen = net.Server.prototype.listen;
let ourServer: net.Server | undefined;
net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]) {
  if (this === ourServer) return realListen.apply(this, args as Parameters<typeof realListen>);
  const call = typeof args[0] === 'number' || typeof args[0] === 'string' ? `listen(${JSON.stringify(args[0])})` : 'listen()';
  send({ type: 'own-listen', call });
  process.nextTick(() => this.emit('listening'));
  return this;
} as typeof realListen;

function problem(kind: AppProblem['kind'], error: unknown): AppProblem {
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind, message: `${e.name}: ${e.message}`, file: appFile, stack: e.stack };
}

function fail(kind: AppProblem['kind'], error: unknown): never {
  send({ type: 'fatal', problem: problem(kind, error) });
  process.exit(1);
}

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let app: Listener;
try {
  const mod = (await import(pathToFileURL(appFile).href)) as Record<string, unknown>;
  if (typeof mod.default !== 'function') fail('bad-export', new Error('The default export is not an app. End the file with `export default app`.'));
  app = mod.default as Listener;
} catch (error) {
  fail(error instanceof SyntaxError ? 'syntax' : 'import', error);
}
process.on('uncaughtException', (error) => fail('crash', error));

const BODY_CHARS = 200;
const server = http.createServer((req, res) => {
  const started = performance.now();
  let body = '';
  const keep = (chunk: unknown) => {
    if (body.length < BODY_CHARS && (typeof chunk === 'string' || chunk instanceof Uint8Array)) body += Buffer.from(chunk).toString('utf8').slice(0, BODY_CHARS - body.length);
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
  res.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk), write(chunk, ...rest))) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => (typeof chunk !== 'function' && keep(chunk), end(chunk, ...rest))) as typeof res.end;
  res.on('finish', () =>
    send({ type: 'request', method: req.method ?? 'GET', path: req.url ?? '/', status: res.statusCode, ms: performance.now() - started, body }),
  );
  app(req, res);
});
ourServer = server;
server.listen(Number(portText), '127.0.0.1');
