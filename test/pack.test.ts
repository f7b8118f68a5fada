// The published package on its own: packed, run with npx from an empty folder, no other install.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { flaskAvailability } from './helpers/flask.ts';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;
let tarball: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-pack-'));
  await run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: repo, maxBuffer: 1 << 24 });
  const name = readdirSync(dir).find((n) => n.endsWith('.tgz'));
  assert.ok(name, 'npm pack made a tarball');
  tarball = path.join(dir, name);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("the tarball carries the build's bundled copies of execa and express", async () => {
  const { stdout } = await run('tar', ['-tzf', tarball], { maxBuffer: 1 << 24 });
  const files = stdout.split('\n');
  assert.ok(files.includes('package/dist/vendor/execa.js'), 'dist/vendor/execa.js is packed');
  assert.ok(files.includes('package/dist/vendor/express.cjs'), 'dist/vendor/express.cjs is packed');
});

test('npx runs the packed course from an empty folder, as the README tells workshops: init, then check 3 --solution, and lesson 8 on its database', { timeout: 600_000 }, async () => {
  const empty = mkdtempSync(path.join(dir, 'empty-'));
  // The README's command, word for word: the tarball handed out, beside the learner.
  const name = path.basename(tarball);
  copyFileSync(tarball, path.join(empty, name));
  const env = { ...process.env, NO_COLOR: '1' };
  const npx = (...args: string[]) => run('npx', ['--yes', `--package=./${name}`, 'global-state-course', ...args], { cwd: empty, env, maxBuffer: 1 << 24 });

  const init = await npx('init');
  assert.match(init.stdout, /Created the workspace .*global-state-course/);
  // The next command is printed the way this learner started the course, with the tarball's full path.
  const next = `Next: cd global-state-course && npx --package=${path.join(empty, name)} global-state-course`;
  assert.ok(init.stdout.includes(next), `${init.stdout} includes ${next}`);
  assert.ok(existsSync(path.join(empty, 'global-state-course', '03-two-workers-two-lists', 'app.js')));
  assert.equal(existsSync(path.join(empty, 'node_modules')), false, 'nothing was installed into the folder');

  const check = await npx('check', '3', '--solution', '--json');
  const result = JSON.parse(check.stdout) as { passed: boolean; workers: number };
  assert.equal(result.passed, true);
  assert.equal(result.workers, 3);

  // The learner's starter, from the workspace, imports express from the course package itself;
  // the failing check's advice can be typed as printed.
  const starter = await npx('check', '2').then(
    () => assert.fail('the starter should fail'),
    (error: { code: number; stdout: string }) => error,
  );
  assert.equal(starter.code, 1);
  assert.match(starter.stdout, /Stuck\? npx --package=\S+ global-state-course hint 2/);

  // Lesson 8's app imports pg from the course package and runs on the course's own PostgreSQL.
  const eight = await npx('check', '8', '--solution', '--json');
  assert.equal((JSON.parse(eight.stdout) as { passed: boolean }).passed, true);
});

test('the packed course runs the Flask track: init --track flask, then check 3 --solution', { timeout: 240_000, skip: (await flaskAvailability()).skip }, async () => {
  const empty = mkdtempSync(path.join(dir, 'flask-'));
  const npx = (...args: string[]) => run('npx', ['--yes', '--package', tarball, '--', 'global-state-course', ...args], { cwd: empty, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 1 << 24 });
  await npx('init', '--track', 'flask', 'shop');
  assert.ok(existsSync(path.join(empty, 'shop', '03-two-workers-two-lists', 'app.py')));
  assert.equal(existsSync(path.join(empty, 'shop', '03-two-workers-two-lists', 'app.js')), false, 'a Flask workspace holds only the Flask apps');
  const check = await npx('check', '3', '--solution', '--json', '--workspace', path.join(empty, 'shop'));
  const result = JSON.parse(check.stdout) as { passed: boolean; file: string };
  assert.equal(result.passed, true);
  assert.match(result.file, /app\.py$/);
});
