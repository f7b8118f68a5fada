// In the worker, the file half of its data operations (data-ops.ts): reads and writes of whole
// files, their renames and the calls a lock is made of; the calls on an open descriptor (what
// streams are made of), reported by the file it was opened on; and looks at whether a file is
// there (exists, stat, access), reported as probes, never held. Sync calls, callbacks and
// promises alike, and an open FileHandle's own methods.
import fs from 'node:fs';
import path from 'node:path';
import { cloak } from './cloak.ts';
import type { GateOperation } from './gate-protocol.ts';
import type { Gate } from './gate-channel.ts';
import type { Around } from './data-ops-node-sqlite.ts';

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** What the file wrappers need of data-ops.ts: the gate, and how an operation is reported and held. */
export interface Operations {
  readonly gate: Gate;
  /** Files under these folders (the course package, any node_modules) are code, not data. */
  readonly codeRoots: readonly string[];
  readonly around: Around;
  aroundAsync<T>(op: () => GateOperation | undefined, fn: () => Promise<T>): Promise<T>;
  enterAsync(n: number, operation: GateOperation): Promise<void> | undefined;
  afterAsync(n: number, operation: GateOperation): Promise<void> | undefined;
  failedAsync(n: number, operation: GateOperation): void;
  /** The next operation's number. */
  nextSeq(): number;
}

export function installFileOperations({ gate, codeRoots, around, aroundAsync, enterAsync, afterAsync, failedAsync, nextSeq }: Operations): void {
  // --- files --------------------------------------------------------------------------------
  /** The file each descriptor the app opened is open on, until it is closed. */
  const openFiles = new Map<number, string>();
  /** The file a call names: a path (string, Buffer, file: URL) resolved, or an open descriptor's file. */
  const fileNamed = (target: unknown): string | undefined => {
    if (typeof target === 'number') return openFiles.get(target) ?? `fd ${target}`;
    if (typeof target === 'string') return path.resolve(target);
    if (target instanceof URL) return target.protocol === 'file:' ? path.resolve(decodeURIComponent(target.pathname)) : String(target);
    if (Buffer.isBuffer(target)) return path.resolve(target.toString());
    return undefined;
  };
  /** Remember the file of each descriptor fs.open and fs.openSync give, and forget it on close. */
  function trackOpenFiles(fsCalls: Record<string, AnyFunction>): void {
    const remember = (fd: unknown, target: unknown) => {
      const file = typeof target === 'number' ? undefined : fileNamed(target);
      if (typeof fd === 'number' && file !== undefined) openFiles.set(fd, file);
    };
    const realOpenSync = fsCalls.openSync;
    fsCalls.openSync = cloak(function openSync(this: unknown, ...args: unknown[]) {
      const fd = realOpenSync.apply(this, args);
      remember(fd, args[0]);
      return fd;
    }, realOpenSync);
    const realOpenCb = fsCalls.open;
    fsCalls.open = cloak(function open(this: unknown, ...args: unknown[]) {
      const callback = args[args.length - 1];
      if (typeof callback === 'function') {
        args[args.length - 1] = function opened(this: unknown, error: unknown, fd: unknown, ...rest: unknown[]) {
          if (!error) remember(fd, args[0]);
          return (callback as AnyFunction).call(this, error, fd, ...rest);
        };
      }
      return realOpenCb.apply(this, args);
    }, realOpenCb);
    for (const name of ['close', 'closeSync']) {
      const real = fsCalls[name];
      fsCalls[name] = cloak(function close(this: unknown, ...args: unknown[]) {
        if (typeof args[0] === 'number') openFiles.delete(args[0]);
        return real.apply(this, args);
      }, real);
    }
  }
  const isCode = (file: string) =>
    /\.(?:[cm]?[jt]s|node)$/.test(file) || file.includes(`${path.sep}node_modules${path.sep}`) || codeRoots.some((root) => file.startsWith(root + path.sep));
  const fileOp = (target: unknown, write: boolean | undefined): GateOperation | undefined => {
    // Opening a file to read it reads nothing yet: the read that follows is the operation.
    if (write === undefined) return undefined;
    const file = fileNamed(target);
    return file === undefined || isCode(file) ? undefined : { kind: 'file', file, write };
  };
  const never = () => false;
  /** Whether an open() with these flags may change the file (write, append, create, truncate). */
  const opensToWrite = (flags: unknown) =>
    typeof flags === 'number' ? (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_APPEND)) !== 0 : /[wax+]/.test(String(flags ?? 'r'));
  /** Each watched function: its name, whether it writes (or how to tell from its arguments), and which argument names the file. */
  type Watched = readonly [name: string, write: boolean | ((args: unknown[]) => boolean | undefined), at: number];
  const writes = (write: Watched[1], args: unknown[]) => (typeof write === 'function' ? write(args) : write);
  const openFlags = (args: unknown[]) => (opensToWrite(typeof args[1] === 'function' ? undefined : args[1]) ? true : undefined);
  // Reads and writes of whole files, their renames, and the calls a lock is made of: open with
  // flags (an exclusive create is a lock), mkdir, link and symlink (a lock folder or link: made,
  // or refused when another worker's is there), unlink and rmdir (a lock released).
  const fileCalls: Watched[] = [
    ['readFile', false, 0],
    ['writeFile', true, 0],
    ['appendFile', true, 0],
    ['rename', true, 1],
    ['copyFile', true, 1],
    ['link', true, 1],
    ['symlink', true, 1],
    ['open', openFlags, 0],
    ['mkdir', true, 0],
    ['unlink', true, 0],
    ['rmdir', true, 0],
    ['rm', true, 0],
    ['truncate', true, 0],
  ];

  const fsSync = fs as unknown as Record<string, AnyFunction>;
  // The calls on an open file descriptor (what read and write streams are made of, and what an
  // app that opens a file itself calls), reported by the file the descriptor was opened on.
  const descriptorCalls: Watched[] = [
    ['read', false, 0],
    ['readv', false, 0],
    ['write', true, 0],
    ['writev', true, 0],
    ['ftruncate', true, 0],
  ];
  trackOpenFiles(fsSync);
  for (const [base, write, at] of [...fileCalls, ...descriptorCalls] as Watched[]) {
    const name = `${base}Sync`;
    const real = fsSync[name];
    if (typeof real !== 'function') continue;
    fsSync[name] = cloak(function wrapped(this: unknown, ...args: unknown[]) {
      return around(() => fileOp(args[at], writes(write, args)), () => real.apply(this, args), never);
    }, real);
  }
  for (const [name, write, at] of [...fileCalls, ...descriptorCalls]) {
    const real = fsSync[name];
    if (typeof real !== 'function') continue;
    fsSync[name] = cloak(function wrapped(this: unknown, ...args: unknown[]) {
      const callback = args[args.length - 1];
      if (typeof callback !== 'function' || gate.mode() === 0) return real.apply(this, args);
      const operation = fileOp(args[at], writes(write, args));
      if (!operation) return real.apply(this, args);
      const n = nextSeq();
      const begun = enterAsync(n, operation);
      args[args.length - 1] = function done(this: unknown, error: unknown, ...rest: unknown[]) {
        const call = () => (callback as AnyFunction).call(this, error, ...rest);
        if (error) failedAsync(n, operation);
        const held = error ? undefined : afterAsync(n, operation);
        if (held) void held.then(call);
        else call();
      };
      if (!begun) return real.apply(this, args);
      void begun.then(() => {
        try {
          real.apply(this, args);
        } catch (error) {
          (args[args.length - 1] as AnyFunction)(error);
        }
      });
      return undefined;
    }, real);
  }
  const promises = fs.promises as unknown as Record<string, AnyFunction>;
  for (const [name, write, at] of fileCalls) {
    const real = promises[name];
    if (typeof real !== 'function') continue;
    promises[name] = cloak(function wrapped(this: unknown, ...args: unknown[]) {
      return aroundAsync(() => fileOp(args[at], writes(write, args)), () => real.apply(this, args) as Promise<unknown>);
    }, real);
  }
  // An open file's own reads and writes (fs.promises.open's FileHandle), by the path it was
  // opened with. The FileHandle class is not exported: its methods are wrapped through the first
  // handle the app opens (nothing is opened for it at start-up).
  const handlePaths = new WeakMap<object, unknown>();
  let handlesWatched = false;
  const watchHandles = (Handle: Record<string, AnyFunction>) => {
    handlesWatched = true;
    for (const [name, write] of [['read', false], ['readFile', false], ['write', true], ['writeFile', true], ['appendFile', true], ['truncate', true]] as const) {
      const real = Handle[name];
      if (typeof real !== 'function') continue;
      Handle[name] = cloak(function wrapped(this: unknown, ...args: unknown[]) {
        return aroundAsync(() => fileOp(handlePaths.get(this as object) ?? -1, write), () => real.apply(this, args) as Promise<unknown>);
      }, real);
    }
  };
  const realOpen = promises.open;
  promises.open = cloak(async function open(this: unknown, ...args: unknown[]) {
    const handle = (await realOpen.apply(this, args)) as object;
    if (!handlesWatched) watchHandles(Object.getPrototypeOf(handle) as Record<string, AnyFunction>);
    handlePaths.set(handle, args[0]);
    return handle;
  }, realOpen);

  // Looks at whether a file is there (exists, stat, access), by sync call, callback or promise:
  // reported as probes, never held. A worker waiting for another's lock file makes them again and
  // again, and a forced race must see that it waits.
  const probed = (target: unknown, found: boolean) => {
    if (gate.mode() === 0) return;
    const operation = fileOp(target, false);
    if (operation?.kind === 'file') gate.report({ t: 'probed', file: operation.file, found });
  };
  const realExistsSync = fsSync.existsSync;
  fsSync.existsSync = cloak(function existsSync(this: unknown, ...args: unknown[]) {
    const found = realExistsSync.apply(this, args) as boolean;
    probed(args[0], found);
    return found;
  }, realExistsSync);
  for (const name of ['stat', 'lstat', 'access']) {
    const realSync = fsSync[`${name}Sync`];
    if (typeof realSync === 'function') {
      fsSync[`${name}Sync`] = cloak(function looked(this: unknown, ...args: unknown[]) {
        let result: unknown;
        try {
          result = realSync.apply(this, args);
        } catch (error) {
          probed(args[0], false);
          throw error;
        }
        // statSync(file, { throwIfNoEntry: false }) answers undefined for a missing file.
        probed(args[0], result !== undefined || name === 'access');
        return result;
      }, realSync);
    }
    const realCallback = fsSync[name];
    if (typeof realCallback === 'function') {
      fsSync[name] = cloak(function looked(this: unknown, ...args: unknown[]) {
        const callback = args[args.length - 1];
        if (typeof callback === 'function') {
          args[args.length - 1] = function done(this: unknown, error: unknown, ...rest: unknown[]) {
            probed(args[0], !error);
            return (callback as AnyFunction).call(this, error, ...rest);
          };
        }
        return realCallback.apply(this, args);
      }, realCallback);
    }
    const realPromise = promises[name];
    if (typeof realPromise === 'function') {
      promises[name] = cloak(function looked(this: unknown, ...args: unknown[]) {
        return (realPromise.apply(this, args) as Promise<unknown>).then(
          (result) => {
            probed(args[0], true);
            return result;
          },
          (error: unknown) => {
            probed(args[0], false);
            throw error;
          },
        );
      }, realPromise);
    }
  }
}
