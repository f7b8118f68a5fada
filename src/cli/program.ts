// The plain commands: the same engine as the interactive course, with text or JSON output.
// Exit codes: 0 passed / done, 1 failed, 2 usage or environment error. Each group of commands
// registers itself from its own module (commands/); this one builds the program and reports
// errors, as one JSON object on stdout whenever --json was asked for.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../runtime/package-root.ts';
import { registerCheckCommand } from './commands/check.ts';
import { registerDoctorCommand } from './commands/doctor.ts';
import { registerLessonCommands } from './commands/lessons.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerWorkspaceCommands } from './commands/workspace.ts';
import { report } from './errors.ts';
import { defaultIo, type Context, type Io } from './io.ts';

export { UsageError } from './io.ts';

export function buildProgram(io: Io = defaultIo, setCode: (code: number) => void = () => {}): Command {
  const act: Context['act'] =
    (fn) =>
    async (...args) =>
      setCode(await fn(...args));
  const program = new Command('global-state-course')
    .description('An interactive course: why module-level state breaks a web app served by several worker processes, and how to fix it.')
    .version(readVersion(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .option('--python <path>', 'the Python interpreter for the Flask track (default: $PYTHON, then python3, then /usr/bin/python3)')
    .hook('preSubcommand', (command) => {
      const python = command.opts<{ python?: string }>().python;
      if (python) process.env.PYTHON = python;
    });
  const context: Context = { io, act };
  registerWorkspaceCommands(program, context);
  registerLessonCommands(program, context);
  registerCheckCommand(program, context);
  registerServeCommand(program, context);
  registerDoctorCommand(program, context);
  return program;
}

function readVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Run the plain commands; returns the exit code instead of exiting, so tests can call it. */
export async function runCommand(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    return report(error, io, argv.includes('--json'));
  }
}
