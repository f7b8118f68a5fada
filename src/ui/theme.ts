// Colours and marks shared by every screen. Each worker keeps one colour everywhere it appears
// (the same colours as the plain commands), so "worker 2" is recognisable at a glance.
import { WORKER_COLOURS } from '../cli/format.ts';

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
