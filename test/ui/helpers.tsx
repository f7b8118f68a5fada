// Helpers for the interactive course's tests: render at a fixed 80x24 with ink-testing-library,
// wait for a frame (polling with a deadline, never a bare sleep), and a throwaway workspace.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ReactNode } from 'react';
import { render } from 'ink-testing-library';
import { CourseSession } from '../../src/ui/course.ts';
import { Resources } from '../../src/ui/resources.ts';
import { CourseContext, type CourseContextValue } from '../../src/ui/use-course.ts';
import { ScreenSizeContext, type ScreenSize } from '../../src/ui/use-screen-size.ts';
import { initWorkspace } from '../../src/workspace.ts';

export const KEY = {
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  enter: '\r',
  escape: '\u001B',
  pageDown: '\u001B[6~',
  pageUp: '\u001B[5~',
  home: '\u001B[H',
  end: '\u001B[F',
  ctrlC: '\u0003',
} as const;

export type Rendered = ReturnType<typeof render>;

/** Render at a pinned screen size (80x24 unless told). */
export function renderAt(tree: ReactNode, size: ScreenSize = { columns: 80, rows: 24 }): Rendered {
  const r = render(<ScreenSizeContext.Provider value={size}>{tree}</ScreenSizeContext.Provider>);
  // The testing library's stdout has columns but no rows: Ink then asks the terminal-size package
  // on every frame it draws, which runs `tput` twice, synchronously. A check drawn live draws
  // hundreds of frames, so the test process spent most of its time starting tput (a check of
  // lesson 1 took 22 s on the lesson screen, 2 s from the command line). The stream gets the
  // pinned size, as a terminal's stdout has (its first frame, drawn in render(), still asks).
  Object.defineProperties(r.stdout, { columns: { value: size.columns }, rows: { value: size.rows } });
  return r;
}

/** Resolves with the first frame that passes `test`; fails with the last frame after `ms`. */
export async function waitForFrame(r: Rendered, test: string | RegExp | ((frame: string) => boolean), ms = 60_000): Promise<string> {
  const ok = typeof test === 'function' ? test : typeof test === 'string' ? (f: string) => f.includes(test) : (f: string) => test.test(f);
  const deadline = Date.now() + ms;
  for (;;) {
    const frame = r.lastFrame() ?? '';
    if (ok(frame)) return frame;
    if (Date.now() > deadline) throw new Error(`No frame matched ${String(test)} within ${ms} ms. Last frame:\n${frame}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves once `check` is true, polling with a deadline. */
export async function waitUntil(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface TestCourse {
  readonly dir: string;
  readonly session: CourseSession;
  readonly resources: Resources;
  readonly context: CourseContextValue;
  quitCalls: number;
  wrap(tree: ReactNode): ReactNode;
  cleanup(): Promise<void>;
}

/** A fresh workspace in a temp folder, its session, and the context screens need. */
export function testCourse(): TestCourse {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-ui-test-'));
  const { workspace } = initWorkspace(path.join(dir, 'global-state-course'));
  const session = CourseSession.open(workspace, dir);
  const resources = new Resources();
  const course: TestCourse = {
    dir,
    session,
    resources,
    quitCalls: 0,
    context: {
      session,
      resources,
      cwd: dir,
      quit: () => {
        course.quitCalls++;
      },
    },
    wrap: (tree) => <CourseContext.Provider value={course.context}>{tree}</CourseContext.Provider>,
    async cleanup() {
      await resources.stopAll();
      session.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return course;
}
