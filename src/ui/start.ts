// The interactive course starts here. Until it is built, the terminal gets the plain list.
import { runCommand } from '../cli/program.ts';

export async function startInteractive(): Promise<number> {
  return runCommand(['list']);
}
