// The database server's keeper: a small process of its own that runs PostgreSQL for the course,
// as worker-main runs an app. It makes sure a cluster exists in the user's cache (initdb, once),
// copies it into a scratch folder of this run (two course windows never share a data folder),
// starts `postgres` on a free loopback port and reports it over IPC. When the IPC channel closes
// — the course stopped it, exited, crashed or was SIGKILLed — it stops the server (fast shutdown),
// removes the copy and exits: no server outlives the course.
//
// PostgreSQL refuses to run as root. Run as root (CI, containers), the keeper runs initdb and the
// server as an unprivileged user (`postgres` when the machine has one, else `nobody`), gives it the
// data folder, and copies the binaries somewhere it can read when they sit under a private home.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { KeeperConfig, KeeperToCourse } from './postgres-protocol.ts';

const config = JSON.parse(process.env.COURSE_POSTGRES ?? '{}') as KeeperConfig;
let server: ChildProcess | undefined;
let runDir: string | undefined;
let leaving = false;

function send(message: KeeperToCourse): void {
  if (process.connected) process.send?.(message);
}

/** Stop the server (fast shutdown: open sessions are ended), remove this run's copy, exit. */
function leave(code = 0): void {
  if (leaving) return;
  leaving = true;
  const done = () => {
    if (runDir) rmSync(runDir, { recursive: true, force: true });
    process.exit(code);
  };
  if (server && server.exitCode === null && server.signalCode === null) {
    server.once('exit', done);
    server.kill('SIGINT');
    // A server that does not stop in time is ended the hard way (SIGQUIT: immediate shutdown).
    setTimeout(() => server?.kill('SIGQUIT'), 3000).unref();
  } else done();
}

process.on('disconnect', () => leave(0));
process.on('SIGTERM', () => leave(0));
process.on('SIGINT', () => leave(0));

interface Owner {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}

/** Who runs the server: the current user, or an unprivileged one when that is root. */
function serverOwner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && uid > 0) return { uid, gid, name };
    } catch {
      /* no such user */
    }
  }
  throw new Error('The course runs as root, and PostgreSQL refuses to: it needs a user named postgres or nobody to run the server as.');
}

function chownTree(dir: string, owner: Owner): void {
  chownSync(dir, owner.uid, owner.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, owner);
    else chownSync(full, owner.uid, owner.gid);
  }
}

/** The binaries' folder `owner` can run: the package's own, or a readable copy of it. */
function runnableBinaries(nativeDir: string, owner: Owner | undefined): string {
  hydrateSymlinks(nativeDir);
  if (!owner) return nativeDir;
  try {
    execFileSync(path.join(nativeDir, 'bin', 'postgres'), ['--version'], { uid: owner.uid, gid: owner.gid, stdio: 'ignore' });
    return nativeDir;
  } catch {
    // Under a private home (npx's cache in /root): copy them once where every user can read.
    let copy = path.join(os.tmpdir(), `global-state-course-postgres-${config.version}`);
    // Only a copy this user made is trusted; anything else in the shared folder gets a private one.
    if (existsSync(copy) && statSync(copy).uid !== process.getuid?.()) copy = mkdtempSync(`${copy}-`);
    if (!existsSync(path.join(copy, 'complete'))) {
      const partial = `${copy}.${process.pid}`;
      rmSync(partial, { recursive: true, force: true });
      cpSync(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
      writeFileSync(path.join(partial, 'complete'), '');
      try {
        renameSync(partial, copy);
      } catch {
        rmSync(partial, { recursive: true, force: true }); // another course got there first
      }
    }
    return copy;
  }
}

/** The package lists its libraries' symlinks in a file, for installs that skipped its install script. */
function hydrateSymlinks(nativeDir: string): void {
  let links: Array<{ source: string; target: string }> = [];
  try {
    links = JSON.parse(readFileSync(path.join(nativeDir, 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return;
  }
  const root = path.dirname(nativeDir);
  for (const { source, target } of links) {
    const to = path.join(root, target);
    if (existsSync(to)) continue;
    try {
      execFileSync('ln', ['-s', path.basename(source), to]);
    } catch {
      /* a read-only install: the server will say what is missing */
    }
  }
}

/** The cluster in the cache, initialised on first use; returns its folder. */
function pristineCluster(bin: string, owner: Owner | undefined): string {
  const cluster = path.join(config.cacheDir, `cluster-${config.version.split('.')[0]}`);
  if (existsSync(path.join(cluster, 'PG_VERSION'))) return cluster;
  mkdirSync(config.cacheDir, { recursive: true });
  // initdb into a scratch folder the server's user can write, then move it into the cache.
  const work = mkdtempSync(path.join(os.tmpdir(), 'global-state-course-initdb-'));
  try {
    const data = path.join(work, 'data');
    const passwordFile = path.join(work, 'password');
    const password = randomBytes(12).toString('hex');
    writeFileSync(passwordFile, `${password}\n`);
    if (owner) chownTree(work, owner);
    execFileSync(
      path.join(bin, 'bin', 'initdb'),
      [`--pgdata=${data}`, '--auth=scram-sha-256', `--username=${config.user}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C', '--no-sync'],
      { stdio: 'pipe', env: { ...process.env, LC_ALL: 'C' }, ...(owner && { uid: owner.uid, gid: owner.gid }) },
    );
    writeFileSync(path.join(data, 'course-password'), password);
    const partial = `${cluster}.${process.pid}`;
    cpSync(data, partial, { recursive: true });
    try {
      renameSync(partial, cluster);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another course initialised it meanwhile
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return cluster;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Start the server on `port`; resolves once it accepts connections, rejects with its last words. */
function startServer(bin: string, data: string, port: number, owner: Owner | undefined): Promise<void> {
  const args = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'lc_messages=C'];
  // A scratch database of a course: durability is not its job, speed is.
  args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300');
  const child = spawn(path.join(bin, 'bin', 'postgres'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
    ...(owner && { uid: owner.uid, gid: owner.gid }),
  });
  server = child;
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-4000);
      if (log.includes('ready to accept connections')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!leaving) reject(new Error(`PostgreSQL stopped (${signal ?? `code ${code}`}): ${log.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

async function main(): Promise<void> {
  const owner = serverOwner();
  const bin = runnableBinaries(config.nativeDir, owner);
  const cluster = pristineCluster(bin, owner);
  runDir = mkdtempSync(path.join(os.tmpdir(), 'global-state-course-pg-'));
  const data = path.join(runDir, 'data');
  cpSync(cluster, data, { recursive: true });
  if (owner) chownTree(runDir, owner);
  chmodSync(data, 0o700);
  const password = readFileSync(path.join(data, 'course-password'), 'utf8').trim();
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await startServer(bin, data, port, owner);
      send({ type: 'ready', port, password, pid: server?.pid ?? 0, dataDir: data });
      server?.once('exit', (code, signal) => {
        if (leaving) return;
        send({ type: 'failed', message: `PostgreSQL stopped unexpectedly (${signal ?? `code ${code}`}).` });
        leave(1);
      });
      return;
    } catch (error) {
      // Another program took the port between the probe and the server's bind: try another.
      if (attempt < 3 && /could not (bind|create listen socket)/i.test(String(error))) continue;
      throw error;
    }
  }
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  leave(1);
});

