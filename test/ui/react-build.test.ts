// The interactive course draws with React's production build, and leaves the environment its
// apps' workers inherit as the shell gave it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

/** Load React and Ink as the course does, in a fresh process, and say which builds ran (Node parses both for their exports, and runs one). */
function loaded(env: NodeJS.ProcessEnv): { builds: string[]; nodeEnv: string | null } {
  const script = `
    import { createRequire } from 'node:module';
    const { loadReactForProduction } = await import(${JSON.stringify(new URL('../../src/ui/start.ts', import.meta.url).href)});
    await loadReactForProduction();
    const builds = Object.entries(createRequire(import.meta.url).cache).filter(([k, m]) => m?.loaded && /cjs[\\\\/](react|react-jsx-runtime|react-reconciler|scheduler)\\.(production|development)\\.js$/.test(k)).map(([k]) => k.split(/[\\\\/]/).pop());
    console.log(JSON.stringify({ builds: builds.sort(), nodeEnv: process.env.NODE_ENV ?? null }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' });
  return JSON.parse(out) as { builds: string[]; nodeEnv: string | null };
}

test('without NODE_ENV, React and Ink load their production builds, and NODE_ENV stays unset', () => {
  const env = { ...process.env };
  delete env.NODE_ENV;
  assert.deepEqual(loaded(env), { builds: ['react-jsx-runtime.production.js', 'react-reconciler.production.js', 'react.production.js', 'scheduler.production.js'], nodeEnv: null });
});

test("a NODE_ENV the shell set is the one React sees, and is kept", () => {
  assert.deepEqual(loaded({ ...process.env, NODE_ENV: 'development' }), {
    builds: ['react-jsx-runtime.development.js', 'react-reconciler.development.js', 'react.development.js', 'scheduler.development.js'],
    nodeEnv: 'development',
  });
});
