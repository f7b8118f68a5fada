// The functions the course puts in a worker in place of Node's own (the manual clock's timers and
// Date, the moved monotonic clocks, the data-operation wrappers) look like Node's own to an app
// that reads them: the same names, lengths and source text as in a plain Node process, and Date
// is no Proxy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Host } from '../src/runtime/host.ts';

const appFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'runtime', 'fingerprints.js');

for (const clock of ['manual', 'flowing', undefined] as const) {
  test(`on the course's ${clock ?? 'real'} clock, an app reads the same fingerprints as in plain Node`, async () => {
    const plain = JSON.parse(execFileSync(process.execPath, [appFile], { encoding: 'utf8', env: { ...process.env, FINGERPRINTS_PRINT: '1' } })) as Record<string, unknown>;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fingerprints-'));
    const host = new Host({ appFile, workers: 1, cwd: dir, ...(clock ? { clock } : {}) });
    try {
      await host.start();
      const seen = (await (await fetch(host.url)).json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(seen).sort(), Object.keys(plain).sort());
      for (const key of Object.keys(plain)) assert.deepEqual(seen[key], plain[key], `${key} differs from plain Node's`);
    } finally {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
