// The interactive course starts here (the bare command on a terminal). It renders the screens in
// the terminal's alternate screen and makes sure nothing outlives it: quitting, Ctrl-C, SIGTERM,
// SIGHUP and a crash of the UI all stop every worker (checks and playgrounds) first.
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

export async function startInteractive(options: InteractiveOptions = {}): Promise<number> {
  respectNoColor();
  const cwd = options.cwd ?? process.cwd();
  // Colour support is decided when these load, so they load after the line above.
  const [{ createElement }, { render }, { default: App }, { CourseSession }, { Resources }, { ProgressError }] = await Promise.all([
    import('react'),
    import('ink'),
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
  const instance = render(createElement(App, { session, openSession: open, resources, cwd, lesson: options.lesson }), {
    alternateScreen: true,
    exitOnCtrlC: false,
  });

  let code = 0;
  let crash: unknown;
  const shutdown = (exitCode: number, error?: unknown) => {
    code = exitCode;
    crash ??= error;
    void resources.stopAll().finally(() => instance.unmount());
  };
  const onSignal = (signal: NodeJS.Signals) => shutdown(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  const onCrash = (error: unknown) => shutdown(1, error);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  try {
    await instance.waitUntilExit();
  } catch (error) {
    code = 1;
    crash ??= error;
  } finally {
    await resources.stopAll();
    for (const s of sessions) s.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
  if (crash) {
    process.stderr.write(`The course stopped on an unexpected error (every worker has been stopped):\n${(crash as Error).stack ?? String(crash)}\n`);
  }
  return code;
}
