// The workspace's own commands: `init` makes one, `reset` puts starters back (keeping the
// learner's files), `progress` shows, exports and imports the record of attempts.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { lessonsFor } from '../../lessons/catalogue.ts';
import type { AppTrack, Lesson } from '../../lessons/types.ts';
import { runtimeFor } from '../../runtime/worker-runtime.ts';
import { courseInvocation } from '../../invocation.ts';
import { lessonStates } from '../../progress/states.ts';
import type { LessonProgress } from '../../progress/store.ts';
import { exportProgress, importProgress, type Moved } from '../../progress/transfer.ts';
import { DEFAULT_WORKSPACE, initWorkspace, resetLesson, resolveWorkspace, type Workspace } from '../../workspace.ts';
import { listText } from '../format.ts';
import { lessonArg, requireWorkspace, UsageError, withProgress, workspaceOption, type Context } from '../io.ts';

const here = (file: string) => path.relative(process.cwd(), file) || '.';

export function registerWorkspaceCommands(program: Command, { io, act }: Context): void {
  program
    .command('init')
    .description(`create a workspace holding the lessons' apps and your progress (default ./${DEFAULT_WORKSPACE})`)
    .argument('[dir]', 'where to create it', DEFAULT_WORKSPACE)
    .addOption(new Option('--track <track>', "the lessons' framework: node (Express) or flask (Python)").choices(['node', 'flask']))
    .action(
      act(async (dir: string, options: { track?: AppTrack }) => {
        if (options.track === 'flask') await runtimeFor('app.py').available();
        const { workspace, created, added } = initWorkspace(dir, options.track ?? 'node', options.track !== undefined);
        withProgress(workspace, () => undefined, io);
        io.out(created ? `Created the workspace ${workspace.dir}` : `${workspace.dir} is already a workspace${added.length ? `; added ${added.join(', ')}` : ''}.`);
        io.out(`Next: cd ${here(workspace.dir)} && ${courseInvocation()}`);
        return 0;
      }),
    );

  program
    .command('reset')
    .description("put a lesson's starter app back (your files are kept in .course/backups); --all for every lesson")
    .argument('[lesson]', 'lesson number or name')
    .option('--all', 'every lesson')
    .addOption(workspaceOption())
    .action(
      act((key: string | undefined, options: { all?: boolean; workspace?: string }) => {
        if (key !== undefined && options.all) throw new UsageError('Name a lesson or give --all, not both.');
        if (key === undefined && !options.all) throw new UsageError('Which lesson? Name one (reset 3), or give --all to reset every lesson.');
        const workspace = requireWorkspace(resolveWorkspace(options.workspace));
        const chosen = options.all ? lessonsFor(workspace.track) : [lessonArg(key!, workspace.track)];
        for (const lesson of chosen) io.out(resetOne(workspace, lesson));
        return 0;
      }),
    );

  program
    .command('progress')
    .description('your progress: each lesson, its state and attempts; --export/--import move it to another workspace')
    .option('--json', 'machine-readable output')
    .option('--export <file>', 'write every attempt and hint to FILE (JSON)')
    .option('--import <file>', 'add the attempts and hints exported in FILE to this workspace')
    .addOption(workspaceOption())
    .action(
      act((options: { json?: boolean; export?: string; import?: string; workspace?: string }) => {
        if (options.export && options.import) throw new UsageError('Give --export or --import, not both.');
        const workspace = requireWorkspace(resolveWorkspace(options.workspace));
        withProgress(
          workspace,
          (store) => {
            if (options.export || options.import) {
              const file = path.resolve((options.export ?? options.import)!);
              const moved = options.export ? exportProgress(store, file) : importProgress(store, file);
              if (options.json) io.out(JSON.stringify({ [options.export ? 'exported' : 'imported']: file, ...moved }, null, 2));
              else io.out(movedText(options.export ? 'export' : 'import', file, moved, workspace));
              return;
            }
            progressReport(store.summary(), workspace, options.json ?? false, io);
          },
          io,
        );
        return 0;
      }),
    );
}

function resetOne(workspace: Workspace, lesson: Lesson): string {
  const backups = resetLesson(workspace, lesson);
  return `Reset ${here(path.join(workspace.dir, lesson.slug))} to the starter.${backups.length ? ` Your version is kept as ${backups.map(here).join(', ')}` : ' (It was the starter already.)'}`;
}

function movedText(direction: 'export' | 'import', file: string, moved: Moved, workspace: Workspace): string {
  const what = `${moved.attempts} attempt${moved.attempts === 1 ? '' : 's'}${moved.passed.length ? ` (passed: ${moved.passed.join(', ')})` : ''}`;
  return direction === 'export'
    ? `Exported ${what} to ${file}. On the other laptop: ${courseInvocation()} progress --import ${path.basename(file)}`
    : `Imported ${what} from ${file} into ${workspace.dir}; attempts already there were left as they were.`;
}

function progressReport(summary: ReadonlyMap<string, LessonProgress>, workspace: Workspace, json: boolean, io: Context['io']): void {
  const lessons = lessonsFor(workspace.track);
  const statuses = lessonStates(lessons, summary);
  const passed = statuses.filter((s) => s.state === 'passed').length;
  if (json) {
    io.out(
      JSON.stringify(
        {
          workspace: workspace.dir,
          passed,
          total: lessons.length,
          lessons: statuses.map(({ lesson, state }) => ({ number: lesson.number, slug: lesson.slug, state, ...summary.get(lesson.slug) })),
        },
        null,
        2,
      ),
    );
  } else {
    io.out(`${passed} of ${lessons.length} lessons passed (${workspace.dir})\n`);
    io.out(listText(statuses));
  }
}
