// Watch mode's file watcher: every kind of save an editor makes is seen, once per save, and
// editor droppings are not.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Text } from 'ink';
import { cleanup } from 'ink-testing-library';
import { DEBOUNCE_MS, isEditorNoise, useWatch } from '../../src/ui/use-watch.ts';
import { renderAt, waitUntil } from './helpers.tsx';

function Watcher({ folder, saves, onReady }: { readonly folder: string; readonly saves: string[]; readonly onReady: () => void }) {
  useWatch(folder, true, (file) => saves.push(path.basename(file)), onReady);
  return <Text>watching</Text>;
}

/**
 * After a save is seen, let several debounce periods pass, so that a late duplicate would have
 * arrived: the absence of an event can only be observed over time.
 */
const quiet = () => new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS * 5));

describe('useWatch', () => {
  let dir: string;
  let file: string;
  let saves: string[];
  let ready: boolean;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-watch-'));
    file = path.join(dir, 'app.js');
    writeFileSync(file, 'export default () => {};\n');
    saves = [];
    ready = false;
    renderAt(<Watcher folder={dir} saves={saves} onReady={() => (ready = true)} />);
    await waitUntil(() => ready, 'the watcher to listen');
  });
  afterEach(() => {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an in-place write', async () => {
    appendFileSync(file, '// edited\n');
    await waitUntil(() => saves.length === 1, 'one save');
    await quiet();
    assert.deepEqual(saves, ['app.js']);
  });

  test('an atomic save (write a temp file, rename it over), twice in a row', async () => {
    for (const n of [1, 2]) {
      writeFileSync(path.join(dir, '.app.js.tmp'), `// version ${n}\n`);
      renameSync(path.join(dir, '.app.js.tmp'), file);
      await waitUntil(() => saves.length === n, `save ${n}`);
      await quiet();
      assert.equal(saves.length, n, `save ${n} seen once`);
    }
    assert.deepEqual(saves, ['app.js', 'app.js']);
  });

  test("vim's backup rename (move the file away, write a new one, delete the backup)", async () => {
    renameSync(file, `${file}~`);
    writeFileSync(file, '// vim wrote me\n');
    unlinkSync(`${file}~`);
    await waitUntil(() => saves.length >= 1, 'the save');
    await quiet();
    assert.deepEqual(saves, ['app.js']);
  });
});

describe('isEditorNoise', () => {
  test('swap files, backups and probes are noise; source files are not', () => {
    for (const name of ['.app.js.swp', 'app.js~', '4913', '#app.js#', 'app.js.tmp', '.DS_Store']) assert.equal(isEditorNoise(`/w/${name}`), true, name);
    for (const name of ['app.js', 'db.mjs', 'config.json']) assert.equal(isEditorNoise(`/w/${name}`), false, name);
  });
});
