// What the bare command does: on a terminal, the interactive course; elsewhere (piped, CI), the
// plain lesson list and how to use the plain commands. With arguments, the plain commands.
// Each side loads only what it needs, so the course's first frame does not wait for the plain
// commands' modules, nor they for Ink.
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0) {
    if (interactiveTerminal(process.stdout, process.stdin, process.env)) {
      const { startInteractive } = await import('./ui/start.ts');
      return startInteractive();
    }
    const { runCommand } = await import('./cli/program.ts');
    const code = await runCommand(['list']);
    const { courseInvocation } = await import('./invocation.ts');
    const run = courseInvocation();
    const rows: [string, string][] = [
      ['init [dir]', 'create a workspace (default ./global-state-course)'],
      ['check <lesson>', 'check your app (--json, --workers N, --seed S, --solution)'],
      ['serve <lesson>', 'run your app on several workers at a local URL'],
      ['hint <lesson>', 'the next hint'],
      ['solution <lesson>', 'the reference fix as a diff'],
      ['reset <lesson>', 'put the starter back (your file is kept)'],
      ['progress', 'your progress (--export FILE, --import FILE)'],
      ['doctor', 'is this machine ready for the course?'],
    ];
    const width = Math.max(...rows.map(([c]) => `${run} ${c}`.length)) + 2;
    process.stdout.write(
      `\nThis terminal is not interactive, so here are the plain commands:\n${rows.map(([c, what]) => `  ${`${run} ${c}`.padEnd(width)}${what}\n`).join('')}Run ${run} --help for every option.\n`,
    );
    return code;
  }
  const { runCommand } = await import('./cli/program.ts');
  return runCommand(argv);
}

/**
 * Whether the full-screen course can run here: a terminal on both ends, not CI, and not a
 * `TERM=dumb` terminal (an editor's shell, some screen-reader set-ups), which cannot move the
 * cursor: there the plain commands serve. NO_COLOR only turns colour off.
 */
export function interactiveTerminal(stdout: { isTTY?: boolean }, stdin: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stdout.isTTY && stdin.isTTY) && !env.CI && env.TERM !== 'dumb';
}
