import { runCheck } from '../src/check/engine.ts';
import { lessons, solutionFile } from '../src/lessons/catalogue.ts';
import { prewarm, stopSpares } from '../src/runtime/processes.ts';
const n = Number(process.argv[2] ?? 3);
const warm = process.argv[3] === 'warm';
const lesson = lessons.find((l) => l.number === n)!;
for (let i = 0; i < 4; i++) {
  if (warm) await prewarm(lesson.workers);
  if (warm) await new Promise((r) => setTimeout(r, 1500));
  const t0 = performance.now();
  const marks: string[] = [];
  let reqs = 0;
  const result = await runCheck(lesson, { appFile: solutionFile(lesson), warmPool: warm, seed: 11, onEvent(e) {
    const t = (performance.now() - t0).toFixed(0);
    if (e.type === 'step-start') marks.push(`${t} start ${e.index}`);
    if (e.type === 'step-end') marks.push(`${t} end ${e.index}`);
    if (e.type === 'request') reqs++;
    if (e.type === 'host' && !['request', 'worker-output', 'response'].includes((e.event as any).type)) marks.push(`${t} host ${(e.event as any).type}`);
  } });
  console.log(result.passed, result.durationMs, 'reqs', reqs);
  console.log(marks.join(' | '));
}
await stopSpares();
