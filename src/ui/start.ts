// The interactive course starts here (the bare command on a terminal): find the workspace, open
// its progress, and run the screens in the terminal's alternate screen until the learner quits.
// lifecycle.ts makes sure no worker outlives it, however it ends.
import { findWorkspace, type Workspace } from '../workspace.ts';
import type { CourseSession as Session } from './course.ts';

export interface InteractiveOptions {
  readonly cwd?: string;
  /** Open this lesson at once. */
  readonly lesson?: number;
}

/** NO_COLOR (https://no-color.org) turns colour off everywhere, Ink and the Markdown renderer included. */
function respectNoColor(): void {
  if (process.env.NO_COLOR && process.env.FORCE_COLOR === undefined) process.env.FORCE_COLOR = '0';
}

/**
 * React and Ink's reconciler pick their build when they load, by NODE_ENV: without it, the
 * development build, which checks and records every render (a live check draws hundreds of
 * frames) for a debugger nobody attaches. They load with NODE_ENV=production unless the shell set
 * it, and the variable is put back at once, so the apps' workers get the environment they would
 * have had (host-env.ts reads it later).
 */
export async function loadReactForProduction(): Promise<void> {
  const shell = process.env.NODE_ENV;
  if (shell === undefined) process.env.NODE_ENV = 'production';
  try {
    // (the screens' compiled JSX calls react/jsx-runtime: it must be the same build as React's)
    await Promise.all([import('react'), import('react/jsx-runtime'), import('ink')]);
  } finally {
    if (shell === undefined) delete process.env.NODE_ENV;
  }
}

export async function startInteractive(options: InteractiveOptions = {}): Promise<number> {
  respectNoColor();
  await loadReactForProduction();
  const cwd = options.cwd ?? process.cwd();
  // Colour support is decided when these load, so they load after the line above.
  const [{ createElement }, { runUntilExit }, { default: App }, { CourseSession }, { Resources }, { ProgressError }] = await Promise.all([
    import('react'),
    import('./lifecycle.ts'),
    import('./App.tsx'),
    import('./course.ts'),
    import('./resources.ts'),
    import('../progress/store.ts'),
  ]);

  const sessions: Session[] = [];
  const open = (workspace: Workspace): Session => {
    const session = CourseSession.open(workspace, cwd);
    sessions.push(session);
    return session;
  };
  const workspace = findWorkspace(cwd);
  let session: Session | undefined;
  try {
    session = workspace ? open(workspace) : undefined;
  } catch (error) {
    if (error instanceof ProgressError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const resources = new Resources();
  try {
    // A screen reader reads the course as lines of text (Ink's screen-reader mode, INK_SCREEN_READER=true):
    // in the normal screen, so what was read stays in the terminal's history.
    const screenReader = process.env.INK_SCREEN_READER === 'true';
    const { code, crash } = await runUntilExit(createElement(App, { session, openSession: open, resources, cwd, lesson: options.lesson }), resources, {
      alternateScreen: !screenReader,
    });
    if (crash) {
      const { fileSystemMessage, isFileSystemError } = await import('../fs-message.ts');
      process.stderr.write(
        isFileSystemError(crash)
          ? `The course stopped: ${fileSystemMessage(crash)} Every worker has been stopped.\n`
          : `The course stopped on an unexpected error; every worker has been stopped.\n${(crash as Error).stack ?? String(crash)}\n`,
      );
    }
    return code;
  } finally {
    for (const s of sessions) s.close();
  }
}
