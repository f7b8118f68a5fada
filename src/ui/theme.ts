// Colours and marks shared by every screen. Each worker keeps one colour everywhere it appears,
// so "worker 2" is recognisable at a glance: the same colours, in the same order, as the plain
// commands' (cli/format.ts, which the first frame does not load; a test keeps the two equal).
export const WORKER_COLOURS = ['cyan', 'magenta', 'yellow', 'blue', 'green', 'red'] as const;

export function workerColour(worker: number): string {
  return WORKER_COLOURS[(worker - 1) % WORKER_COLOURS.length];
}

export const MARK = {
  passed: '✓',
  failed: '✗',
  pending: '·',
  leftOut: '○',
  locked: '·',
  current: '▶',
  open: '○',
  pointer: '❯',
  arrow: '→',
} as const;
