// Run the plain commands in-process, collecting what they print; one fresh workspace per test.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../src/cli/program.ts';

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function cli(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCommand(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

/** `cli` run from `cwd` (commands find the workspace from the current folder). */
export async function cliIn(cwd: string, ...argv: string[]): Promise<Run> {
  const before = process.cwd();
  process.chdir(cwd);
  try {
    return await cli(...argv);
  } finally {
    process.chdir(before);
  }
}

export interface Scratch {
  /** A temporary folder, removed by `done`. */
  readonly root: string;
  /** A workspace inside it. */
  readonly ws: string;
  readonly done: () => void;
}

export async function scratchWorkspace(prefix = 'gsc-nc-'): Promise<Scratch> {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  const ws = path.join(root, 'ws');
  const init = await cli('init', ws);
  assert.equal(init.code, 0, init.err);
  return { root, ws, done: () => rmSync(root, { recursive: true, force: true }) };
}

/** Parse stdout as exactly one JSON object (fails the test otherwise). */
export function oneJson(run: Run): Record<string, unknown> {
  let value: unknown;
  assert.doesNotThrow(() => (value = JSON.parse(run.out)), `stdout is one JSON document:\n${run.out}`);
  assert.equal(typeof value, 'object');
  assert.ok(value !== null && !Array.isArray(value), 'an object, not an array');
  return value as Record<string, unknown>;
}
