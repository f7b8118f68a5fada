// Commands the course prints can be typed as printed: `npx global-state-course …` under npx.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { courseInvocation, startedByNpx } from '../src/invocation.ts';
import { runnable } from '../src/ui/LessonText.tsx';

const cliFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.ts');

test('npx is told by npm\'s environment or by the npx cache in the script\'s path; otherwise the bare name', () => {
  assert.equal(courseInvocation({ env: { npm_command: 'exec' } }), 'npx global-state-course');
  assert.equal(courseInvocation({ env: { npm_execpath: '/usr/lib/node_modules/npm/bin/npx-cli.js' } }), 'npx global-state-course');
  assert.equal(courseInvocation({ env: {}, script: '/home/ann/.npm/_npx/ac2f0a8202f51d8c/node_modules/.bin/global-state-course' }), 'npx global-state-course');
  assert.equal(courseInvocation({ env: {}, script: '/usr/local/bin/global-state-course' }), 'global-state-course');
  assert.equal(courseInvocation({ env: { npm_command: 'run-script' }, script: '/repo/dist/cli.js' }), 'global-state-course');
  assert.equal(startedByNpx({ env: {}, script: '/home/ann/not_npx/cli.js' }), false);
});

test('from a tarball through npx, printed commands name the tarball', () => {
  assert.equal(
    courseInvocation({ env: { npm_command: 'exec', npm_config_package: '/tmp/w/global-state-course-0.1.0.tgz' } }),
    'npx --package=/tmp/w/global-state-course-0.1.0.tgz global-state-course',
  );
  assert.equal(courseInvocation({ env: { npm_command: 'exec', npm_config_package: '/tmp/my files/gsc.tgz' } }), "npx --package='/tmp/my files/gsc.tgz' global-state-course");
  // A registry name is what the learner typed after npx already.
  assert.equal(courseInvocation({ env: { npm_command: 'exec', npm_config_package: 'global-state-course@latest' } }), 'npx global-state-course');
});

test('the plain commands print the npx form when npx started them, and the bare name when not', () => {
  const outside = mkdtempSync(path.join(os.tmpdir(), 'gsc-inv-'));
  try {
    const run = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, [cliFile, 'list'], { cwd: outside, encoding: 'utf8', env: { ...env, PATH: process.env.PATH, NO_COLOR: '1' } });
    const npx = run({ npm_command: 'exec' });
    assert.equal(npx.status, 0, npx.stderr);
    assert.match(npx.stdout, /Create one with `npx global-state-course init`/);
    const global = run({});
    assert.match(global.stdout, /Create one with `global-state-course init`/);
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test('commands in a lesson\'s text are rewritten the same way', () => {
  const text = 'Ask for one (`global-state-course hint 9`, or the `h` key).';
  assert.equal(runnable(text, 'npx global-state-course'), 'Ask for one (`npx global-state-course hint 9`, or the `h` key).');
  assert.equal(runnable(text, 'global-state-course'), text);
});
