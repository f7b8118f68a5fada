// Lesson 4's attacker who has read the shop's code: which strings she tries as signing keys.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { secretsInSource } from '../../src/lessons/04-logged-out-at-random/source-secrets.ts';

test("the strings of the app, of the modules of its folder it imports and of its .env files; not routes, SQL, markup or other files", (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'source-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    path.join(dir, 'app.js'),
    [
      "import key from './keys.js';",
      "const keys = [process.env.SESSION_SECRET, 'old-key-2024', `tmpl-${key}`, \"it's \\\"quoted\\\"\"];",
      "app.get('/api/me', () => db.prepare('SELECT name FROM users WHERE id = ?'));",
      "res.send(`<p>hi</p>`);",
    ].join('\n'),
  );
  writeFileSync(path.join(dir, 'keys.js'), "export default 'imported-key';\n");
  writeFileSync(path.join(dir, '.env'), 'SESSION_SECRET=dotenv-key\n');
  writeFileSync(path.join(dir, 'notes.js'), "const unrelated = 'never-imported';\n");
  writeFileSync(path.join(dir, 'settings.py'), "SECRET_KEY = 'python-module-key'\n");
  writeFileSync(path.join(dir, 'app.py'), 'import settings\napp.secret_key = "py-literal-key"\n');

  const js = secretsInSource(path.join(dir, 'app.js'));
  assert.ok(js.includes('old-key-2024') && js.includes('imported-key') && js.includes('dotenv-key'), js.join(', '));
  assert.ok(js.includes('it\'s "quoted"'), 'escapes are undone');
  for (const not of ['/api/me', 'SELECT name FROM users WHERE id = ?', '<p>hi</p>', 'never-imported', 'python-module-key']) assert.ok(!js.includes(not), `${not} is not tried`);
  assert.ok(!js.some((s) => s.includes('${')), 'a template with a placeholder is not a literal');

  const py = secretsInSource(path.join(dir, 'app.py'));
  assert.ok(py.includes('py-literal-key') && py.includes('python-module-key') && py.includes('dotenv-key'), py.join(', '));
  assert.ok(!py.includes('imported-key'));
});
