// What the bare command does: on a terminal, the interactive course; elsewhere (piped, CI), the
// plain lesson list and how to use the plain commands. With arguments, the plain commands.
// Each side loads only what it needs, so the course's first frame does not wait for the plain
// commands' modules, nor they for Ink.
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0) {
    if (process.stdout.isTTY && process.stdin.isTTY && !process.env.CI) {
      const { startInteractive } = await import('./ui/start.ts');
      return startInteractive();
    }
    const { runCommand } = await import('./cli/program.ts');
    const code = await runCommand(['list']);
    process.stdout.write(`
This terminal is not interactive, so here are the plain commands:
  global-state-course init [dir]          create a workspace (default ./global-state-course)
  global-state-course check <lesson>      check your app (--json, --workers N, --seed S, --solution)
  global-state-course serve <lesson>      run your app on several workers at a local URL
  global-state-course hint <lesson>       the next hint
  global-state-course solution <lesson>   the reference fix as a diff
  global-state-course reset <lesson>      put the starter back (your file is kept)
  global-state-course progress            your progress
  global-state-course doctor              is this machine ready for the course?
Run global-state-course --help for every option.
`);
    return code;
  }
  const { runCommand } = await import('./cli/program.ts');
  return runCommand(argv);
}
