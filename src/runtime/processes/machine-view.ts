// A machine's own view of the disk, for a host that spreads its workers over several machines.
// Two real machines share nothing on disk: a lock file in /tmp, next to the app, or in the home
// folder is a lock on one machine. The course's simulated machines run on one computer, so on
// Linux each gets a mount namespace of its own, held open by a small shell (the holder):
//
// - /tmp, /var/tmp, /dev/shm, the home folder and the app's folders are overlays: every file
//   there can still be read, but what the machine's processes write stays with the machine (in
//   a tmpfs that ends with the holder);
// - the machine's own data folder is written through (the check reads what the app wrote there);
// - the other machines' data folders are empty and read-only, as on another computer.
//
// Every process of the machine (its workers, its jobs process, its Python host) enters that
// namespace with nsenter before it starts, so they all share the machine's files and see no
// other machine's. Every machine of such a host gets a view, the first one included: nothing on
// disk tells one machine from another. Where namespaces are not allowed (not Linux, no util-linux,
// no user namespaces), hosts run without views, and `doctor` says so.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from './execa.ts';

export interface MachineDiskPlan {
  /** Folders whose writes go to the real disk: the machine's data. */
  readonly keep: readonly string[];
  /** Folders to show empty and read-only: the other machines' data. */
  readonly blank: readonly string[];
  /** Folders the app may write to that must stay with the machine, beside /tmp and the home folder (the app's own folder). */
  readonly private: readonly string[];
}

export interface MachineView {
  /** The command prefix that starts a program inside this machine's view, in folder `cwd` there. */
  enter(cwd?: string): string[];
  /** End the holder; the view goes with the last process inside it. */
  close(): void;
}

const SYSTEM_PRIVATE = ['/tmp', '/var/tmp', '/dev/shm'];

const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

const asRoot = () => process.getuid?.() === 0;

/** The holder's script: mount the view, say "ready", wait until its stdin ends. */
export function holderScript(plan: MachineDiskPlan, work: string): string {
  const overlays = overlayTargets([...SYSTEM_PRIVATE, os.homedir(), ...plan.private]);
  const lines = ['set -e', `mount -t tmpfs -o mode=0700 machine ${quote(work)}`];
  // Folders are opened before the overlays hide them: the tmpfs (fd 9) for the overlays' upper
  // layers, the data folders (fd 3 on) to bind back over the overlays.
  if (plan.keep.length > 6) throw new Error('A machine keeps at most 6 folders of the real disk.');
  lines.push(`exec 9< ${quote(work)}`);
  plan.keep.forEach((dir, i) => lines.push(`exec ${3 + i}< ${quote(dir)}`));
  overlays.forEach((dir, i) => {
    const upper = `/proc/self/fd/9/${i}`;
    lines.push(`mkdir -p ${upper}/up ${upper}/work`);
    lines.push(`mount -t overlay overlay -o ${quote(`lowerdir=${dir},upperdir=${upper}/up,workdir=${upper}/work`)} ${quote(dir)}`);
  });
  plan.keep.forEach((dir, i) => lines.push(`mount --no-canonicalize --bind /proc/self/fd/${3 + i} ${quote(dir)}`, `exec ${3 + i}<&-`));
  lines.push('exec 9<&-');
  for (const dir of plan.blank) lines.push(`if [ -d ${quote(dir)} ]; then mount -t tmpfs -o ro,mode=0755 empty ${quote(dir)}; fi`);
  lines.push('cd /', 'echo ready', 'while read -r _; do :; done');
  return lines.join('\n');
}

/** The folders to overlay: those that exist, each once, none inside another. */
function overlayTargets(dirs: readonly string[]): string[] {
  // overlay's options cannot carry a comma, a colon or a backslash in a path: such a folder stays shared.
  const existing = [...new Set(dirs.map((dir) => path.resolve(dir)))].filter((dir) => dir !== '/' && !/[,:\\]/.test(dir) && existsSync(dir));
  const inside = (dir: string, parent: string) => dir !== parent && dir.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
  return existing.filter((dir) => !existing.some((other) => inside(dir, other))).sort();
}

/**
 * Open a machine's view: resolves once its mounts are in place, or with undefined when this
 * computer cannot make one (the reason goes to `unavailableReason()`).
 */
export async function openMachineView(plan: MachineDiskPlan): Promise<MachineView | undefined> {
  if (process.platform !== 'linux' || unavailable !== undefined) return undefined;
  const work = mkdtempSync(path.join(os.tmpdir(), 'machine-'));
  const flags = asRoot() ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
  const child = execa('unshare', [...flags, '/bin/sh', '-c', holderScript(plan, work)], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    cleanup: false,
    buffer: false,
    encoding: 'utf8',
  });
  child.stdin?.on('error', () => {});
  let errors = '';
  child.stderr?.on('data', (chunk: string) => (errors += chunk));
  const ready = await new Promise<boolean>((resolve) => {
    child.stdout?.on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve(true);
    });
    void child.then(() => resolve(false));
  });
  // The tmpfs is mounted on `work` inside the view only; the folder itself is not needed outside.
  rmSync(work, { recursive: true, force: true });
  if (!ready) {
    unavailable = `the course could not give each machine a disk of its own here (${errors.trim().split("\n").find((line) => line.trim())  || 'unshare failed'})`;
    return undefined;
  }
  const pid = child.pid!;
  child.nodeChildProcess.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?(): void } | null)?.unref?.();
  const entry = asRoot() ? ['--mount'] : ['--user', '--mount', '--preserve-credentials'];
  return {
    enter: (cwd) => ['nsenter', `--target=${pid}`, ...entry, ...(cwd ? [`--wd=${cwd}`] : []), '--'],
    close: () => child.stdin?.end(),
  };
}

let unavailable: string | undefined;

/** Whether this computer can give each simulated machine a disk of its own: undefined when it can, else why not. */
export async function probeMachineViews(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `machine views need Linux's mount namespaces (this is ${process.platform})`;
  const view = await openMachineView({ keep: [], blank: [], private: [] });
  view?.close();
  return view ? undefined : unavailable;
}

/** Why machines share this computer's disk (no views), once a view was refused; undefined otherwise. */
export function unavailableReason(): string | undefined {
  return unavailable;
}
