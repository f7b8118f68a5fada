// Plain-text renderings of the engine's results, for the plain commands. Colour only on a
// terminal, and never with NO_COLOR (node's styleText checks both).
import path from 'node:path';
import { styleText } from 'node:util';
import type { CheckResult, StepResult } from '../check/engine.ts';
import { problemLine } from '../check/problem-line.ts';
import type { RequestRecord } from '../check/visitor.ts';
import type { Lesson } from '../lessons/types.ts';
import type { LessonStatus } from '../progress/states.ts';
import type { AppProblem } from '../runtime/protocol.ts';
import type { DoctorReport } from '../doctor.ts';

type Style = Parameters<typeof styleText>[0];
const paint = (style: Style, text: string) => styleText(style, text);

/** Each worker keeps one colour everywhere it is shown. */
export const WORKER_COLOURS = ['cyan', 'magenta', 'yellow', 'blue', 'green', 'red'] as const;

export function workerLabel(worker: number | null): string {
  if (worker === null) return paint('red', 'no worker');
  return paint(WORKER_COLOURS[(worker - 1) % WORKER_COLOURS.length], `worker ${worker}`);
}

export function requestLine(record: RequestRecord): string {
  const status = record.status === 0 ? '---' : String(record.status);
  const statusText = record.status >= 400 || record.status === 0 ? paint('red', status) : paint('green', status);
  const who = record.visitor.padEnd(6);
  return `${paint('bold', who)} ${record.method.padEnd(4)} ${record.path}  → ${workerLabel(record.worker)}  ${statusText}  ${paint('dim', record.body)}`;
}

export function problemText(problem: AppProblem, cwd = process.cwd()): string {
  const lines = [paint('red', problemLine(problem))];
  if (problem.file) {
    const rel = path.relative(cwd, problem.file) || problem.file;
    lines.push(`  in ${rel}${problem.line ? `:${problem.line}${problem.column ? `:${problem.column}` : ''}` : ''}`);
  }
  if (problem.output?.length) {
    lines.push(paint('dim', '  The app printed:'));
    for (const line of problem.output.slice(-12)) lines.push(paint('dim', `  │ ${line}`));
  }
  return lines.join('\n');
}

function printed(title: string, output: readonly string[], max: number): string[] {
  return [paint('dim', `  ${title}`), ...output.slice(-max).map((line) => paint('dim', `  │ ${line}`))];
}

function stepText(step: StepResult, startup: readonly string[] = []): string {
  if (step.skipped && step.passed) return `${paint('dim', '○')} ${step.title} ${paint('dim', `(left out: ${step.note})`)}`;
  if (step.skipped) return paint('dim', `· ${step.title} (not run)`);
  const lines = [`${step.passed ? paint('green', '✓') : paint('red', '✗')} ${step.title}`];
  for (const record of step.requests) lines.push(`    ${requestLine(record)}`);
  if (!step.passed) {
    if (step.message) lines.push(`  ${paint('red', step.message)}`);
    if (step.diagnosis) for (const line of step.diagnosis.split('\n')) lines.push(`  ${paint('yellow', line)}`);
    if (step.problem?.file) lines.push(`  in ${step.problem.file}${step.problem.line ? `:${step.problem.line}` : ''}`);
    if (startup.length) lines.push(...printed('The app printed as it started (module-level code, at import):', startup, 20));
    if (step.output?.length) lines.push(...printed(startup.length ? 'And during this step:' : 'The app printed:', step.output, 10));
  }
  return lines.join('\n');
}

/** "3 of 4 steps passed", or with steps left out: "3 passed, 1 left out, of 4 steps". */
export function stepCount(steps: readonly StepResult[]): string {
  const leftOut = steps.filter((s) => s.skipped && s.passed).length;
  const passed = steps.filter((s) => s.passed && !s.skipped).length;
  return leftOut ? `${passed} passed, ${leftOut} left out, of ${steps.length} step${steps.length === 1 ? '' : 's'}` : `${passed} of ${steps.length} step${steps.length === 1 ? '' : 's'} passed`;
}

/** A check's story as text; `startup` is what the app printed as it started, shown with the failing step. */
export function checkText(result: CheckResult, title: string, startup: readonly string[] = []): string {
  const routing = result.policy === 'random' ? `random routing, seed ${result.seed}` : result.policy;
  const lines = [paint('bold', `Lesson ${result.number} · ${title}`) + paint('dim', ` — ${result.workers} worker${result.workers === 1 ? '' : 's'}, ${routing}`), ''];
  if (result.problem) {
    lines.push(paint('red', '✗ The app did not start.'));
    lines.push(problemText(result.problem));
  }
  const failing = result.steps.findIndex((s) => !s.passed && !s.skipped);
  for (const [i, step] of result.steps.entries()) lines.push(stepText(step, i === failing ? startup : []));
  const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;
  lines.push('');
  if (result.problem) lines.push(`${paint(['red', 'bold'], 'FAILED')}  the app did not start, so no step ran · ${seconds}`);
  else lines.push(`${result.passed ? paint(['green', 'bold'], 'PASSED') : paint(['red', 'bold'], 'FAILED')}  ${stepCount(result.steps)} · ${seconds}`);
  return lines.join('\n');
}

const STATE_MARK: Record<LessonStatus['state'], string> = {
  passed: paint('green', '✓'),
  current: '▶',
  open: '○',
  locked: paint('dim', '·'),
};

/** The lessons by track, without progress (outside a workspace). */
export function catalogueText(lessons: readonly Lesson[]): string {
  const lines: string[] = [];
  let track = '';
  for (const lesson of lessons) {
    if (lesson.track !== track) {
      track = lesson.track;
      if (lines.length) lines.push('');
      lines.push(paint('bold', track === 'core' ? 'Core track' : 'Advanced track'));
    }
    lines.push(`  ${String(lesson.number).padStart(2)}. ${lesson.title}  ${paint('dim', lesson.summary)}`);
  }
  return lines.join('\n');
}

/** The time of day as the course shows it everywhere: 13:58:01. */
export function clockTime(date: Date = new Date()): string {
  return date.toLocaleTimeString('en-GB', { hour12: false });
}

/** A response body on one line, as the course shows it: a page by its title, other text squeezed. */
export function bodyLine(text: string, max = 100): string {
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
  if (title !== undefined) return `page "${title}"`;
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function listText(statuses: readonly LessonStatus[]): string {
  const lines: string[] = [];
  let track = '';
  for (const { lesson, state, attempts } of statuses) {
    if (lesson.track !== track) {
      track = lesson.track;
      if (lines.length) lines.push('');
      lines.push(paint('bold', track === 'core' ? 'Core track' : 'Advanced track'));
    }
    const mark = STATE_MARK[state];
    const tries = attempts ? paint('dim', ` (${attempts} attempt${attempts === 1 ? '' : 's'})`) : '';
    const name = `${String(lesson.number).padStart(2)}. ${lesson.title}`;
    lines.push(`  ${mark} ${state === 'locked' ? paint('dim', name) : name}  ${paint('dim', `${state} · ${lesson.summary}`)}${tries}`);
  }
  return lines.join('\n');
}

export function doctorText(report: DoctorReport): string {
  const mark = { ok: paint('green', '✓'), warn: paint('yellow', '!'), problem: paint('red', '✗') };
  const lines = report.findings.map((f) => `${mark[f.verdict]} ${paint('bold', f.item)}: ${f.detail}${f.fix ? `\n    ${paint('yellow', f.fix)}` : ''}`);
  lines.push('', report.healthy ? paint('green', 'Everything the course needs is in place.') : paint('red', 'Problems found: see the lines marked ✗.'));
  return lines.join('\n');
}
