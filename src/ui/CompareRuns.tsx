import { Box, Text } from 'ink';
import type { CheckView } from './check-state.ts';
import CheckStory from './CheckStory.tsx';

export type Props = {
  /** The check with one worker, as a laptop's dev server runs the app. */
  readonly one: CheckView;
  /** The same check with the lesson's workers, as the host runs it. */
  readonly many: CheckView;
  readonly cwd: string;
};

/** "Works on my machine": the same check on one worker and on N, one above the other. */
export default function CompareRuns({ one, many, cwd }: Props) {
  const done = (view: CheckView) => view.phase === 'passed' || view.phase === 'failed';
  let verdict: string | undefined;
  if (done(one) && done(many)) {
    if (one.phase === 'passed' && many.phase === 'failed') {
      verdict = `One process passes and ${many.workers} fail: each worker keeps its own memory, so what one worker stored, the others never see. Your laptop runs one process, which is why this never showed there.`;
    } else if (one.phase === 'passed' && many.phase === 'passed') {
      verdict = `Both pass: the data lives outside the processes, so it no longer matters how many workers there are.`;
    } else {
      verdict = 'It fails even on one worker: fix that first (press t for the lesson, h for a hint).';
    }
  }
  return (
    <Box flexDirection="column">
      <Text>The same check on 1 worker (your laptop's dev server) and on {many.workers || 'several'} (the host):</Text>
      <Box flexDirection="column" marginTop={1}>
        <CheckStory view={one} subject="your app" cwd={cwd} compact />
      </Box>
      <Box flexDirection="column" marginTop={1}>
        {many.phase === 'idle' ? <Text dimColor>Then on several workers…</Text> : <CheckStory view={many} subject="your app" cwd={cwd} compact />}
      </Box>
      {verdict ? (
        <Box marginTop={1}>
          <Text color="yellow">{verdict}</Text>
        </Box>
      ) : null}
    </Box>
  );
}
