// Fidelity: every lesson's starter and reference fix on a real host, Node's own node:cluster
// with 3 workers (what PM2's cluster mode runs), played over fresh connections that the primary
// hands to the workers in turn: no course dispatcher, no pinning, no held locks, no course
// clock. The starter must show the lesson's bug there too, and the fix must not. One primary at
// a time, each stopped (and checked gone) before the next starts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { exerciseFile, findLesson, solutionFile } from '../src/lessons/catalogue.ts';
import type { Lesson } from '../src/lessons/types.ts';
import { databaseServer } from '../src/runtime/postgres.ts';
import { startOnCluster, type ClusterOptions, type ClusterRun } from './helpers/cluster-run.ts';
import * as play from './helpers/fidelity-scenarios.ts';
import { allGone } from './helpers/processes.ts';

const clockFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'machine-clock.mjs');
const LIMIT = { timeout: 45_000 };

/** The longest a cluster took to start so far in this file: how slow the machine is today. */
let slowestStart = 1_000;

async function started(lesson: Lesson, appFile: string, options?: ClusterOptions): Promise<ClusterRun> {
  const run = await startOnCluster(lesson, appFile, options);
  slowestStart = Math.max(slowestStart, run.startMs);
  return run;
}

/** A night of lesson 8 on a real host: the machines' clocks read just before 03:00 UTC as the processes start. */
async function night(lesson: Lesson, appFile: string): Promise<{ run: ClusterRun; seen: () => Promise<play.Seen> }> {
  // The app schedules its job when it is imported: 03:00 must come after every worker has
  // started, so the margin follows the slowest start seen; if the machine is slower still,
  // the night is tried once more with twice the margin.
  for (const attempt of [1, 2]) {
    const margin = attempt * (1_000 + 1.5 * slowestStart);
    const threeAm = Date.UTC(2025, 5, 3, 3, 0, 0);
    let strikesAt = Infinity;
    const machine = () => {
      strikesAt = Date.now() + margin;
      const offset = threeAm - strikesAt;
      return { nodeOptions: `--import=${pathToFileURL(clockFile).href}?offset=${offset}`, jobsClockStart: Date.now() + offset };
    };
    const run = await started(lesson, appFile, { machine });
    if (Date.now() < strikesAt - 250) return { run, seen: () => play.nightOfEmails(run, strikesAt + 15_000) };
    await run.stop();
  }
  throw new Error('the cluster took longer to start than the margin before 03:00, twice');
}

/** A lesson's scenario, played on a running cluster; or (lesson 8) one that starts the cluster itself. */
type Fidelity =
  | { readonly lesson: number; readonly play: (run: ClusterRun) => Promise<play.Seen> }
  | { readonly lesson: number; readonly start: typeof night };

const LESSONS: readonly Fidelity[] = [
  { lesson: 1, play: play.frozenAtStartup },
  { lesson: 2, play: play.everyonesList },
  { lesson: 3, play: play.twoWorkersTwoLists },
  { lesson: 4, play: play.loggedOutAtRandom },
  { lesson: 5, play: play.theCacheThatLies },
  { lesson: 6, play: play.lostUpdates },
  { lesson: 7, play: play.crossedWires },
  { lesson: 8, start: night },
  { lesson: 9, play: play.capstone },
];

describe('every lesson on node:cluster with 3 workers, over fresh connections', () => {
  after(() => databaseServer.stop());

  for (const entry of LESSONS) {
    const lesson = findLesson(String(entry.lesson))!;
    for (const variant of ['starter', 'reference fix'] as const) {
      const shows = variant === 'starter';
      test(`lesson ${lesson.number} (${lesson.title}): the ${variant} ${shows ? 'shows' : 'does not show'} the bug`, LIMIT, async (t) => {
        // Given the lesson's app on node:cluster
        const file = shows ? exerciseFile(lesson) : solutionFile(lesson);
        const running =
          'start' in entry ? await entry.start(lesson, file) : await started(lesson, file).then((run) => ({ run, seen: () => entry.play(run) }));
        const { run } = running;
        try {
          // When people use it as the lesson's story goes
          const seen = await running.seen();
          t.diagnostic(seen.evidence);
          // Then the bug shows with the starter, and not with the fix
          assert.equal(seen.bug, shows, `${variant} of lesson ${lesson.number}: ${seen.evidence}\n${run.output()}`);
        } finally {
          await run.stop();
        }
        assert.ok(await allGone(run.pids), `left running: ${run.pids.join(', ')}`);
      });
    }
  }
});
