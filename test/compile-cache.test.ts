// Node's compile cache lives in the user's cache folder, private to the user; a folder that is
// a link or open to others is left alone and the course runs without the cache.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { enableCompileCache, userCacheDir } from '../src/runtime/compile-cache.ts';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'gsc-cache-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('compile cache folder', () => {
  test('is under $XDG_CACHE_HOME when it is absolute, else under ~/.cache', () => {
    assert.equal(userCacheDir({ XDG_CACHE_HOME: '/somewhere/cache' }), path.join('/somewhere/cache', 'global-state-course'));
    assert.equal(userCacheDir({ XDG_CACHE_HOME: 'relative/cache' }), path.join(os.homedir(), '.cache', 'global-state-course'));
  });

  test('a link in place of the folder is not followed', { skip: process.platform === 'win32' ? 'links need privileges on Windows' : false }, () => {
    // Given a cache folder whose compile-cache is a link to somewhere else
    const xdg = path.join(scratch, 'linked');
    const elsewhere = path.join(scratch, 'elsewhere');
    mkdirSync(path.join(xdg, 'global-state-course'), { recursive: true });
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(xdg, 'global-state-course', 'compile-cache'));
    // Then the cache stays off
    assert.equal(enableCompileCache({ XDG_CACHE_HOME: xdg }), undefined);
  });

  test('a folder others may write to is not used', { skip: process.platform === 'win32' ? 'no POSIX modes on Windows' : false }, () => {
    const xdg = path.join(scratch, 'open');
    const dir = path.join(xdg, 'global-state-course', 'compile-cache');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    assert.equal(enableCompileCache({ XDG_CACHE_HOME: xdg }), undefined);
  });

  test('a missing folder is created private to the user and used', () => {
    const xdg = path.join(scratch, 'fresh');
    const used = enableCompileCache({ XDG_CACHE_HOME: xdg });
    const dir = path.join(xdg, 'global-state-course', 'compile-cache');
    assert.equal(used, dir);
    if (process.platform !== 'win32') assert.equal(statSync(dir).mode & 0o077, 0);
  });
});
