// One line naming an app's problem and where it happened: shared by the engine's diagnoses and
// the plain commands' output, in a module of its own so that formatting loads no engine.
import path from 'node:path';
import type { AppProblem } from '../runtime/protocol.ts';

/** "TypeError: x is not a function (app.js:14)" */
export function problemLine(problem: AppProblem): string {
  const where = problem.file ? ` (${path.basename(problem.file)}${problem.line ? `:${problem.line}` : ''})` : '';
  return `${problem.message}${where}`;
}
