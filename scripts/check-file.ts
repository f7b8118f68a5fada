// Run one lesson's check on any app file (a fixture, an attempt) and print the verdict: for
// trying a fix without a workspace, and for replaying a run.
//
//   node --import tsx scripts/check-file.ts 6 test/fixtures/06-lost-updates/wrong-order-written-after-payment.js
//   node --import tsx scripts/check-file.ts 4 app.py --seed 7        (the track follows the file)
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCheck } from '../src/check/engine.ts';
import { lessonsFor } from '../src/lessons/catalogue.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string' } } });
const [number, file] = positionals;
if (!number || !file) {
  console.error('Usage: node --import tsx scripts/check-file.ts LESSON APP_FILE [--seed N]');
  process.exit(2);
}
const appFile = path.resolve(file);
const lesson = lessonsFor(appFile.endsWith('.py') ? 'flask' : 'node').find((l) => l.number === Number(number));
if (!lesson) {
  console.error(`No lesson ${number}.`);
  process.exit(2);
}
const result = await runCheck(lesson, { appFile, ...(values.seed ? { seed: Number(values.seed) } : {}) });
const failed = result.steps.find((step) => !step.passed);
console.log(`${result.passed ? 'PASSED' : 'FAILED'} (seed ${result.seed}, ${result.durationMs} ms)`);
if (result.problem) console.log(`  the app did not start: ${result.problem.message}`);
if (failed) console.log(`  at "${failed.title}"\n  ${failed.message ?? ''}\n  ${failed.diagnosis ?? ''}`);
process.exit(result.passed ? 0 : 1);
