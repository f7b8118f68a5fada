// Messages between the course and the database server's keeper (postgres-main), over its IPC channel.

/** What the keeper is told when it starts (in its environment, as JSON). */
export interface KeeperConfig {
  /** The platform package's `native` folder: bin/, lib/, share/. */
  readonly nativeDir: string;
  /** PostgreSQL's version, as the platform package names it ("18.4.0-beta.17"). */
  readonly version: string;
  /** Where the initialised cluster is kept between runs of the course. */
  readonly cacheDir: string;
  /** The database user the course and the apps connect as. */
  readonly user: string;
}

export type KeeperToCourse =
  | { readonly type: 'ready'; readonly port: number; readonly password: string; readonly pid: number; readonly dataDir: string }
  | { readonly type: 'failed'; readonly message: string };
