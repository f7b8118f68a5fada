// The build's one-file copies of execa and express (scripts/bundle-vendor.mjs): they are the
// libraries themselves, and a worker gives the learner's `import express` the copy it preloaded,
// never a second express. `npm test` builds first, so the copies exist here.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Host } from '../src/runtime/host.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vendor = path.join(repo, 'dist', 'vendor');
const hosts: Host[] = [];
after(() => Promise.all(hosts.map((host) => host.stop())));

test('the build bundles execa and express, each working as the package does', async () => {
  assert.ok(existsSync(path.join(vendor, 'execa.js')) && existsSync(path.join(vendor, 'express.cjs')), 'run `npm run build` first');
  const { execa } = (await import(pathToFileURL(path.join(vendor, 'execa.js')).href)) as typeof import('execa');
  const result = await execa(process.execPath, ['-e', 'process.stdout.write("from a child")']);
  assert.equal(result.stdout, 'from a child');
  const express = createRequire(import.meta.url)(path.join(vendor, 'express.cjs')) as typeof import('express');
  assert.equal(typeof express, 'function');
  assert.equal(typeof express.Router, 'function');
  assert.equal(typeof express.static, 'function');
});

test("a worker gives the app's `import express` the bundled copy it preloaded, and loads no other express", async (t) => {
  // Outside the repository, as a learner's workspace is: no node_modules of its own to find express in.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-vendor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const appFile = path.join(dir, 'app.js');
  copyFileSync(path.join(repo, 'test', 'fixtures', 'runtime', 'express-modules.js'), appFile);
  const host = new Host({ appFile, workers: 1, cwd: dir });
  hosts.push(host);
  await host.start();
  const loaded = (await (await fetch(host.url)).json()) as string[];
  assert.deepEqual(loaded, [path.join(vendor, 'express.cjs')]);
});

test("an app inside the course's folder, which finds the course's own express package, gets the bundled copy too", async () => {
  const host = new Host({ appFile: path.join(repo, 'test', 'fixtures', 'runtime', 'express-modules.js'), workers: 1, cwd: os.tmpdir() });
  hosts.push(host);
  await host.start();
  const loaded = (await (await fetch(host.url)).json()) as string[];
  assert.deepEqual(loaded, [path.join(vendor, 'express.cjs')]);
});

test("an app with a node_modules of its own gets its own express, not the course's", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-vendor-own-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const own = path.join(dir, 'node_modules', 'express');
  mkdirSync(own, { recursive: true });
  writeFileSync(path.join(own, 'package.json'), JSON.stringify({ name: 'express', version: '0.0.1', main: 'index.js' }));
  writeFileSync(path.join(own, 'index.js'), "module.exports = () => (req, res) => res.end('the learner\\'s own express');\n");
  const appFile = path.join(dir, 'app.js');
  writeFileSync(appFile, "import express from 'express';\nexport default express();\n");
  const host = new Host({ appFile, workers: 1, cwd: dir });
  hosts.push(host);
  await host.start();
  assert.equal(await (await fetch(host.url)).text(), "the learner's own express");
});
