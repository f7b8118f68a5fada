// What a check says, in words a newcomer reads right: start-up output labelled by worker, steps
// left out counted as such, an app that did not start said as such; `serve` logs as the course does.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CheckResult } from '../src/check/engine.ts';
import { summarize } from '../src/check/pages.ts';
import { bodyLine, checkText, clockTime } from '../src/cli/format.ts';
import { startupCollector } from '../src/startup-output.ts';
import { checkReducer, idleCheck, type CheckAction } from '../src/ui/check-state.ts';
import { checkedNotice } from '../src/ui/lesson-state.ts';
import { cli, scratchWorkspace } from './helpers/cli.ts';

const cliFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.ts');
const base = { lesson: '03-x', number: 3, workers: 1, policy: 'round-robin' as const, seed: 1, durationMs: 1200 };

describe('the verdict line', () => {
  test('an app that did not start: said so, never "0 of 0 steps"', () => {
    const result: CheckResult = { ...base, passed: false, problem: { kind: 'syntax', message: 'SyntaxError: Unexpected token' }, steps: [] };
    const text = checkText(result, 'Two lists');
    assert.match(text, /FAILED {2}the app did not start, so no step ran · 1\.2 s/);
    assert.doesNotMatch(text, /0 of 0/);
  });

  test('a step left out is counted as left out, not as passed', () => {
    const pass = (title: string) => ({ title, passed: true, requests: [] });
    const result: CheckResult = { ...base, passed: true, steps: [pass('a'), pass('b'), pass('c'), { title: 'd', passed: true, skipped: true, note: 'one worker', requests: [] }] };
    assert.match(checkText(result, 'Two lists'), /PASSED {2}3 passed, 1 left out, of 4 steps · 1\.2 s/);
  });
});

describe('what the app printed as it started', () => {
  test('a failing check shows the module-level output, labelled by worker, beside the step\'s own', async () => {
    const { ws, done } = await scratchWorkspace();
    try {
      const app = path.join(ws, '01-frozen-at-startup', 'app.js');
      appendFileSync(app, "\nconsole.log('prices read at import');\n");
      const run = await cli('check', '1', '--workspace', ws);
      assert.equal(run.code, 1);
      assert.match(run.out, /The app printed as it started \(module-level code, at import\):/);
      for (const worker of [1, 2, 3]) assert.match(run.out, new RegExp(`│ \\[worker ${worker}\\] prices read at import`));
      const json = JSON.parse((await cli('check', '1', '--json', '--workspace', ws)).out) as { startupOutput?: string[] };
      assert.ok(json.startupOutput?.some((line) => /^\[worker \d\] prices read at import$/.test(line)));
      assert.ok(readFileSync(app, 'utf8').includes('prices read at import'));
    } finally {
      done();
    }
  });

  test('the screen folds the same lines: before the first step only', () => {
    const output = (worker: number, line: string): CheckAction => ({ type: 'engine', event: { type: 'host', event: { type: 'worker-output', worker, pid: 1, line } as never } });
    const actions: CheckAction[] = [
      { type: 'requested', workers: 2, trigger: 'key' },
      { type: 'engine', event: { type: 'check-start', lesson: 'x', workers: 2, policy: 'round-robin', seed: 1, steps: ['a'] } },
      output(1, 'loaded'),
      output(2, 'loaded'),
      { type: 'engine', event: { type: 'step-start', index: 0, title: 'a' } },
      output(1, 'serving a request'),
    ];
    const view = actions.reduce(checkReducer, idleCheck);
    assert.deepEqual(view.startup, ['[worker 1] loaded', '[worker 2] loaded']);
    const collector = startupCollector();
    for (const a of actions) if (a.type === 'engine') collector.onEvent(a.event);
    assert.deepEqual(collector.lines(), view.startup);
  });
});

describe('the screens\' words', () => {
  test('in watch mode, a failed start says saving checks again, not "press c"', () => {
    const [watching] = checkedNotice({ passed: false, started: false, file: 'x/app.js', watching: true });
    assert.equal(watching, 'Your app did not start: fix x/app.js, then save it (watch is on: saving checks again).');
    const [plain] = checkedNotice({ passed: false, started: false, file: 'x/app.js', watching: false });
    assert.match(plain, /then press c again\.$/);
    const [failedWatching] = checkedNotice({ passed: false, started: true, file: 'x/app.js', watching: true });
    assert.doesNotMatch(failedWatching, /press c/);
  });

  test('a page is shown by its title as a browser shows it: entities decoded', () => {
    assert.equal(summarize('<!doctype html><title>Bread &amp; Butter &#8211; &quot;fresh&quot;</title><h1>x</h1>', 'text/html'), 'HTML page "Bread & Butter – "fresh""');
    assert.equal(summarize('<pre>Error: no&nbsp;such &lt;thing&gt;<br>at x</pre>', 'text/html'), 'HTML page: Error: no such <thing>');
  });
});

test('serve logs the time and the page as the course shows them: 13:58:01 and page "Title"', { timeout: 90_000 }, async () => {
  assert.equal(clockTime(new Date(2026, 11, 1, 13, 58, 1)), '13:58:01');
  assert.equal(bodyLine('<!doctype html><html><head><title>Corner Shop</title></head><body>…</body></html>'), 'page "Corner Shop"');
  const serve = spawn(process.execPath, [cliFile, 'serve', '1', '--solution', '--port', '0', '--workers', '1'], {
    env: { ...process.env, NO_COLOR: '1', NODE_TEST_CONTEXT: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const lines = createInterface({ input: serve.stdout! });
    const next = (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const onLine = (line: string) => {
          if (!pattern.test(line)) return;
          lines.off('line', onLine);
          resolve(line);
        };
        lines.on('line', onLine);
        serve.once('exit', () => reject(new Error(`serve exited before printing ${pattern}`)));
      });
    const open = await next(/^Open http:\/\/127\.0\.0\.1:\d+\//);
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(open)![0];
    const logged = next(/GET +\/ /);
    await (await fetch(url)).text();
    assert.match(await logged, /^\d\d:\d\d:\d\d {2}browser GET +\/ +→ worker 1 {2}200 {2}page "[^"]+" {2}\d+ ms$/);
  } finally {
    serve.kill('SIGINT');
    await new Promise((resolve) => serve.once('exit', resolve));
  }
});
