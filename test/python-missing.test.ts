// A Flask check on a machine that lacks what it needs says what to install, exit 2, and --json
// stays JSON: no Python with Flask at all, or (lesson 8, whose app talks to PostgreSQL) a Python
// with Flask but neither psycopg nor psycopg2.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cli } from './helpers/cli.ts';
import { flaskAvailability } from './helpers/flask.ts';

const { python, skip } = await flaskAvailability();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'gsc-nopg-'));
const saved = process.env.PYTHON;

after(() => {
  if (saved === undefined) delete process.env.PYTHON;
  else process.env.PYTHON = saved;
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * An interpreter like `real`, in which psycopg and psycopg2 cannot be found: a wrapper that starts
 * it with a sitecustomize hiding them (as a Python where they were never installed).
 */
function withoutPostgresClient(real: string): string {
  writeFileSync(
    path.join(scratch, 'sitecustomize.py'),
    [
      'import importlib.util, sys',
      'HIDDEN = ("psycopg", "psycopg2")',
      'real_find_spec = importlib.util.find_spec',
      'importlib.util.find_spec = lambda name, package=None: None if name.split(".")[0] in HIDDEN else real_find_spec(name, package)',
      'class Hide:',
      '    def find_spec(self, name, path=None, target=None):',
      '        if name.split(".")[0] in HIDDEN:',
      '            raise ModuleNotFoundError(f"No module named {name!r}")',
      'sys.meta_path.insert(0, Hide())',
    ].join('\n'),
  );
  const wrapper = path.join(scratch, 'python-without-psycopg');
  writeFileSync(wrapper, `#!/bin/sh\nPYTHONPATH=${JSON.stringify(scratch)} exec ${JSON.stringify(real)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

describe('a Flask check without what it needs', () => {
  test('no Python with Flask: the install command, exit 2, and JSON with --json', async () => {
    process.env.PYTHON = path.join(scratch, 'no-such-python');
    const plain = await cli('check', '3', '--solution', '--track', 'flask');
    assert.equal(plain.code, 2, plain.out + plain.err);
    assert.match(plain.err + plain.out, /needs Python 3\.11\+ with Flask 2\.2\+/);
    assert.match(plain.err + plain.out, /pip install flask/);
    assert.doesNotMatch(plain.err + plain.out, /\n\s+at /, 'no stack trace');
    const json = await cli('check', '3', '--solution', '--track', 'flask', '--json');
    assert.equal(json.code, 2);
    const answer = JSON.parse(json.out) as { passed: boolean; error?: { message: string } };
    assert.equal(answer.passed, false);
    assert.match(answer.error?.message ?? '', /pip install flask/);
  });

  test("lesson 8 with a Python that has Flask and no PostgreSQL client: what to install, exit 2", { skip }, async () => {
    process.env.PYTHON = withoutPostgresClient(python!.executable);
    const plain = await cli('check', '8', '--solution', '--track', 'flask');
    assert.equal(plain.code, 2, plain.out + plain.err);
    assert.match(plain.err + plain.out, /can import neither psycopg nor psycopg2/);
    assert.match(plain.err + plain.out, /pip install "psycopg\[binary\]"/);
    assert.match(plain.err + plain.out, /python3-psycopg2/);
    const json = await cli('check', '8', '--solution', '--track', 'flask', '--json');
    assert.equal(json.code, 2);
    const answer = JSON.parse(json.out) as { passed: boolean; error?: { kind: string; message: string } };
    assert.equal(answer.passed, false);
    assert.match(answer.error?.message ?? '', /psycopg/);
    // A lesson without a database still runs with that Python
    const three = await cli('check', '3', '--solution', '--track', 'flask', '--json');
    assert.equal(three.code, 0, three.out);
  });
});
