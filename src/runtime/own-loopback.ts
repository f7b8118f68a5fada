// One machine of several has a loopback of its own, as each real machine has: a fixed port (or an
// abstract Unix socket name) an app listens on there is free on every other machine, so that
// "whoever gets the port is the scheduler" elects one process per machine, as on a real host.
// The course's machines run on one computer and share its loopback, so in a machine of several,
// a listen on a fixed port of the loopback (or of every address) goes to a 127.x.y.z address of
// that machine's own, drawn from its name, and an abstract socket name gets the machine's name.
// Listens on port 0 (the course's own, and any the app lets the system choose) are left alone.
// The Python worker does the same (_course_worker.py own_loopback), with the same addresses.
import { createHash } from 'node:crypto';
import type net from 'node:net';

/** What a listen on the loopback, or on every address, names as its host. */
const LOOPBACK = new Set(['', '0.0.0.0', '::', '127.0.0.1', '::1', 'localhost']);

/** Machine `name`'s own loopback address: 127.x.y.z, never 127.0.0.1. */
export function machineLoopback(name: string): string {
  const digest = createHash('sha256').update(name).digest();
  return `127.${digest[0]}.${digest[1]}.${digest[2]! | 2}`;
}

/** listen()'s arguments as they go on machine `name`'s own loopback (see the top). */
export function onOwnLoopback(args: readonly unknown[], name: string): unknown[] {
  const [first, ...rest] = args;
  const abstract = (path: string) => `${path}@${name}`;
  if (first !== null && typeof first === 'object') {
    if ('fd' in first || '_handle' in first || 'handle' in first) return [...args];
    const options = first as net.ListenOptions;
    if (typeof options.path === 'string') return options.path.startsWith('\0') ? [{ ...options, path: abstract(options.path) }, ...rest] : [...args];
    if (Number(options.port ?? 0) !== 0 && LOOPBACK.has(options.host ?? '')) return [{ ...options, host: machineLoopback(name) }, ...rest];
    return [...args];
  }
  if (typeof first === 'string' && first.startsWith('\0')) return [abstract(first), ...rest];
  if ((typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) && Number(first) !== 0) {
    const named = typeof rest[0] === 'string';
    if (LOOPBACK.has(named ? (rest[0] as string) : '')) return [Number(first), machineLoopback(name), ...(named ? rest.slice(1) : rest)];
  }
  return [...args];
}
