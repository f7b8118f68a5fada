// Reading the course: `list` (the lessons and your progress), `hint` (the next hint, counted in
// the workspace) and `solution` (the reference fix as a diff against your files).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { lessonFiles, lessonsFor, solutionFile } from '../../lessons/catalogue.ts';
import { command } from '../../invocation.ts';
import { lessonStates } from '../../progress/states.ts';
import { learnerFile, resolveWorkspace } from '../../workspace.ts';
import { catalogueText, listText } from '../format.ts';
import { lessonOrHere, noWorkspace, trackFor, trackOption, withProgress, workspaceOption, type Context } from '../io.ts';

export function registerLessonCommands(program: Command, { io, act }: Context): void {
  program
    .command('list')
    .description('the lessons, in order, with your progress')
    .option('--json', 'machine-readable output')
    .addOption(workspaceOption())
    .addOption(trackOption())
    .action(
      act((options: { json?: boolean; workspace?: string; track?: string }) => {
        const workspace = resolveWorkspace(options.workspace);
        const lessons = lessonsFor(trackFor(workspace, options.track));
        // Outside a workspace there is no progress: the lessons are listed without states.
        const statuses = workspace ? withProgress(workspace, (store) => lessonStates(lessons, store.summary()), io) : undefined;
        if (options.json) {
          io.out(
            JSON.stringify(
              lessons.map((lesson, i) => ({
                number: lesson.number,
                slug: lesson.slug,
                title: lesson.title,
                track: lesson.track,
                summary: lesson.summary,
                ...(statuses ? { state: statuses[i].state, attempts: statuses[i].attempts, file: learnerFile(workspace!, lesson) } : {}),
              })),
              null,
              2,
            ),
          );
        } else if (statuses) {
          io.out(listText(statuses));
        } else {
          io.out(catalogueText(lessons));
          io.out(`\n${noWorkspace(' to start (your progress is kept there)').message}`);
        }
        return 0;
      }),
    );

  program
    .command('hint')
    .description('the next hint for a lesson (all hints seen so far with --all)')
    .argument('[lesson]', "lesson number or name (default: the lesson whose folder you are in)")
    .option('--all', 'every hint seen so far, and the next one')
    .addOption(workspaceOption())
    .addOption(trackOption())
    .action(
      act((key: string | undefined, options: { all?: boolean; workspace?: string; track?: string }) => {
        const workspace = resolveWorkspace(options.workspace);
        const lesson = lessonOrHere(key, workspace, 'hint', trackFor(workspace, options.track));
        // Hints are counted in the workspace, one at a time: without one, say so (as check does).
        if (!workspace) throw noWorkspace(' (hints are counted there, one at a time)');
        withProgress(
          workspace,
          (store) => {
            const seen = store.hintsShown(lesson.slug);
            const next = Math.min(seen + 1, lesson.hints.length);
            const from = options.all ? 1 : next;
            for (let n = from; n <= next; n++) io.out(`Hint ${n} of ${lesson.hints.length}: ${lesson.hints[n - 1]}\n`);
            store.markHintShown(lesson.slug, next);
            if (next === lesson.hints.length) io.out(`That was the last hint. The reference fix: ${command('solution', lesson.number)}`);
          },
          io,
        );
        return 0;
      }),
    );

  program
    .command('solution')
    .description('the reference fix, as a diff against your file')
    .argument('[lesson]', "lesson number or name (default: the lesson whose folder you are in)")
    .addOption(workspaceOption())
    .addOption(trackOption())
    .action(
      act(async (key: string | undefined, options: { workspace?: string; track?: string }) => {
        const workspace = resolveWorkspace(options.workspace);
        const lesson = lessonOrHere(key, workspace, 'solution', trackFor(workspace, options.track));
        // Loaded here: no other command needs the diff library.
        const { createTwoFilesPatch } = await import('diff');
        for (const name of lessonFiles(lesson)) {
          const reference = readFileSync(path.join(path.dirname(solutionFile(lesson)), name), 'utf8');
          const mine = workspace ? path.join(workspace.dir, lesson.slug, name) : undefined;
          if (!mine || !existsSync(mine)) {
            io.out(`// ${lesson.slug}/${name}, the reference fix\n${reference}`);
            continue;
          }
          const patch = createTwoFilesPatch(path.relative(process.cwd(), mine), `reference ${name}`, readFileSync(mine, 'utf8'), reference, undefined, undefined, { context: 3 });
          io.out(patch.includes('@@') ? patch : `${path.relative(process.cwd(), mine)} is the same as the reference fix.`);
        }
        return 0;
      }),
    );
}
