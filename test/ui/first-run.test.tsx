// The first-run offer's "another folder": the field starts empty and `~` means the home folder.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { cleanup } from 'ink-testing-library';
import App from '../../src/ui/App.tsx';
import type { CourseSession } from '../../src/ui/course.ts';
import { workspaceTarget } from '../../src/ui/FirstRun.tsx';
import { Resources } from '../../src/ui/resources.ts';
import { isWorkspace } from '../../src/workspace.ts';
import { KEY, renderAt, waitForFrame } from './helpers.tsx';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-first-run-'));
});
afterEach(() => {
  cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const noSession = (): CourseSession => assert.fail('no workspace should be opened here');

test('"another folder" starts empty: what is typed is the whole name, and ~ is the home folder', async () => {
  // Given the first-run offer
  const r = renderAt(<App openSession={noSession} resources={new Resources()} cwd={dir} />);
  await waitForFrame(r, 'another folder');
  // When the learner asks for another folder
  r.stdin.write('o');
  // Then the field is empty and says what empty means
  const empty = await waitForFrame(r, 'Empty means');
  assert.match(empty, /^Folder: *$/m);
  assert.doesNotMatch(empty, /Folder: .*global-state-course/);
  // When they type a path under their home folder
  r.stdin.write('~/my course');
  // Then it is shown expanded, and nothing was appended to a default
  const typed = await waitForFrame(r, '→');
  assert.match(typed, /Folder: ~\/my course/);
  assert.ok(typed.replace(/\n/g, '').includes(`→ ${path.join(os.homedir(), 'my course')}`), typed);
  r.stdin.write(KEY.escape);
  await waitForFrame(r, 'Create it in');
});

test('typing a folder creates the workspace there', async () => {
  const created: string[] = [];
  const r = renderAt(
    <App
      openSession={(workspace) => {
        created.push(workspace.dir);
        throw new Error('stop here');
      }}
      resources={new Resources()}
      cwd={dir}
    />,
  );
  await waitForFrame(r, 'another folder');
  r.stdin.write('o');
  await waitForFrame(r, 'Empty means');
  r.stdin.write('mine');
  await waitForFrame(r, '→');
  r.stdin.write(KEY.enter);
  await waitForFrame(r, 'stop here');
  assert.ok(isWorkspace(path.join(dir, 'mine')));
});

test('workspaceTarget: empty is the default, ~ and ~/x are the home folder, others are relative to where the course started', () => {
  assert.equal(workspaceTarget('/work', '', '/home/ann'), '/work/global-state-course');
  assert.equal(workspaceTarget('/work', '  ', '/home/ann'), '/work/global-state-course');
  assert.equal(workspaceTarget('/work', '~', '/home/ann'), '/home/ann');
  assert.equal(workspaceTarget('/work', '~/courses/gsc', '/home/ann'), '/home/ann/courses/gsc');
  assert.equal(workspaceTarget('/work', 'sub/dir', '/home/ann'), '/work/sub/dir');
  assert.equal(workspaceTarget('/work', '/abs', '/home/ann'), '/abs');
});

test('the first run asks which track: t switches to Flask, says what Flask needs when it is missing, and the workspace is made for it', async () => {
  const saved = process.env.PYTHON;
  // A Python that is not there: the Flask track says what to install.
  process.env.PYTHON = path.join(dir, 'no-such-python3');
  try {
    const created: string[] = [];
    const r = renderAt(
      <App
        openSession={(workspace) => {
          created.push(workspace.dir);
          throw new Error('stop here');
        }}
        resources={new Resources()}
        cwd={dir}
      />,
    );
    // Given the first-run offer, on the Node track by default
    assert.match(await waitForFrame(r, 'Track: Node'), /Flask track/);
    // When the learner presses t
    r.stdin.write('t');
    // Then the Flask track is chosen and, with no Python, the screen says what to install
    const missing = (await waitForFrame(r, 'pip install flask')).replace(/\s+/g, ' ');
    assert.match(missing, /Track: Flask/);
    assert.match(missing, /needs Python 3\.11\+ with Flask 2\.2\+/);
    assert.match(missing, /python3-flask/);
    // When they create the workspace, it is a Flask workspace
    r.stdin.write(KEY.enter);
    await waitForFrame(r, 'stop here');
    assert.equal(created.length, 1);
    assert.ok(existsSync(path.join(created[0]!, '01-frozen-at-startup', 'app.py')));
    assert.ok(!existsSync(path.join(created[0]!, '01-frozen-at-startup', 'app.js')));
  } finally {
    if (saved === undefined) delete process.env.PYTHON;
    else process.env.PYTHON = saved;
  }
});
