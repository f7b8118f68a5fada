// Helpers for tests about processes: is a pid alive, and wait (by polling with a deadline)
// until a set of pids is gone.
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Resolves true once none of `pids` is alive, false if some still are after `ms`. */
export async function allGone(pids: readonly number[], ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pids.every((pid) => !alive(pid))) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return pids.every((pid) => !alive(pid));
}
