// End to end: the BUILT course (node dist/cli.js) in a real terminal (tmux, 80x24). In a fresh
// folder: create the workspace through the first-run offer, open lesson 1, check it and see it
// fail with worker labels, put the reference fix in place, check again and see it pass, and find
// lesson 2 open on the home screen. Builds first unless dist/ is newer than every source.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const run = promisify(execFile);

function newestSource(): number {
  let newest = 0;
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  visit(path.join(root, 'src'));
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) newest = Math.max(newest, statSync(path.join(root, file)).mtimeMs);
  return newest;
}

/** Build dist/ unless it is newer than every source file. */
async function ensureBuilt(): Promise<void> {
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestSource()) return;
  const bin = path.dirname(process.execPath);
  await run('npm', ['run', 'build'], { cwd: root, env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` }, timeout: 120_000 });
}

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One tmux server of our own (private socket), one 80x24 window running the course. */
class Terminal {
  readonly socket = `gsc-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(cwd: string, env: Readonly<Record<string, string>> = {}) {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    // CI would make the bare command print the plain list: this is a terminal, so unset it.
    const command = `env -u CI TERM=xterm-256color ${vars.join(' ')} ${shellQuote(process.execPath)} ${shellQuote(cli)}; echo "[exited $?]"; sleep 120`;
    // 40 rows: a failing step stops at the first stale worker, so on 24 rows the story in view can
    // hold one worker only, and the test looks at several workers' colours.
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'course', '-x', '80', '-y', '40', '-c', cwd, command);
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** The screen as text; with `escapes`, with its colours and attributes as escape sequences. */
  screen(escapes = false): string {
    return this.tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'course');
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'course', ...keys);
  }

  async waitFor(test: string | RegExp, ms = 30_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const screen = this.screen();
      if (typeof test === 'string' ? screen.includes(test) : test.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`The screen never showed ${String(test)} within ${ms} ms. It shows:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Wait until the course reads keys one by one (raw mode: the pane's terminal has icanon off).
   * Ink turns raw mode on just after its first frame is drawn; a Ctrl-C before that is the
   * terminal's SIGINT, which ends the course with 130 as a signal should.
   */
  async waitForRawMode(ms = 30_000): Promise<void> {
    const tty = this.tmux('display-message', '-p', '-t', 'course', '#{pane_tty}').trim();
    const deadline = Date.now() + ms;
    while (!/(^|\s)-icanon(\s|$)/.test(execFileSync('stty', ['-F', tty, '-a'], { encoding: 'utf8' }))) {
      if (Date.now() > deadline) throw new Error(`The course did not turn raw mode on within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      /* already gone */
    }
  }
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** CI installs tmux (.ci/run): there, a missing tmux fails these tests instead of skipping them. */
const ci = !!process.env.CI && process.env.CI !== 'false';

describe('the built course in a terminal', { skip: hasTmux() || ci ? false : 'tmux is not installed (.ci/run installs it)' }, () => {
  let dir: string;
  const terminals: Terminal[] = [];
  before(async () => {
    if (!hasTmux()) assert.fail('tmux is not installed, and CI is set: .ci/run installs it');
    await ensureBuilt();
    dir = mkdtempSync(path.join(os.tmpdir(), 'gsc-e2e-'));
  });
  after(() => {
    for (const t of terminals) t.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  test('first run, lesson 1 fails with worker labels, the fix passes, lesson 2 opens', { timeout: 180_000 }, async () => {
    const term = new Terminal(dir);
    terminals.push(term);

    // First run: the offer to create ./global-state-course
    await term.waitFor(`Create it in ${path.join(dir, 'global-state-course')}?`);
    term.keys('Enter');
    const home = await term.waitFor('Core track');
    assert.match(home, /1\. Frozen at startup\s+current/);
    assert.match(home, /2\. Everyone's list\s+locked/);
    assert.ok(existsSync(path.join(dir, 'global-state-course', '.course', 'workspace.json')));

    // Lesson 1
    term.keys('Enter');
    const lesson = await term.waitFor('The Corner Shop sells');
    assert.match(lesson, /Edit global-state-course\/01-frozen-at-startup\/app\.js/);

    // The starter fails, and the story names the workers
    term.keys('c');
    const failed = await term.waitFor('FAILED');
    assert.match(failed, /→ worker \d 200/);
    assert.match(failed, /Expected (the page to show )?"[^"]+"\s+at\s+\d+\.\d\d\s[\s\S]*?worker\s+\d\)+,\s+got\s+"[^"]+"\s+at\s+\d+\.\d\d\./);
    // Each worker has a colour of its own.
    const colourOf = new Map<string, Set<string>>();
    for (const [, escapes, worker] of term.screen(true).matchAll(/((?:\u001B\[[0-9;]*m)+)worker (\d)/g)) {
      const colour = /\u001B\[(3\d)m/.exec(escapes)?.[1] ?? 'none';
      colourOf.set(worker, (colourOf.get(worker) ?? new Set()).add(colour));
    }
    const seen = [...colourOf].map(([w, c]) => `worker ${w}: ${[...c].join(',')}`).join('; ');
    assert.ok(colourOf.size >= 2, `several workers on screen: ${seen}`);
    assert.ok([...colourOf.values()].every((c) => c.size === 1 && !c.has('none')), `each worker has one colour: ${seen}`);
    assert.equal(new Set([...colourOf.values()].map((c) => [...c][0])).size, colourOf.size, `and no two share one: ${seen}`);

    // The reference fix passes
    copyFileSync(path.join(root, 'solutions', '01-frozen-at-startup', 'app.js'), path.join(dir, 'global-state-course', '01-frozen-at-startup', 'app.js'));
    term.keys('c');
    // (the panel comes with the verdict; the unlocked lesson once the attempt is recorded)
    const passed = await term.waitFor(/Lesson 2, Everyone's list, is now open/);
    assert.match(passed, /Lesson 1 passed/);

    // Back home: lesson 2 is open
    term.keys('b');
    await term.waitFor('The Corner Shop sells');
    term.keys('b');
    const after = await term.waitFor('Core track');
    assert.match(after, /1\. Frozen at startup\s+passed · 2 attempts/);
    assert.match(after, /2\. Everyone's list\s+current/);
    assert.match(after, /1 of \d+ lessons passed/);

    // Quit
    term.keys('q');
    await term.waitFor('[exited 0]');
  });

  test('NO_COLOR turns colour off; a later run below the workspace opens it', { timeout: 60_000 }, async () => {
    const inside = path.join(dir, 'global-state-course', '01-frozen-at-startup');
    const term = new Terminal(inside, { NO_COLOR: '1' });
    terminals.push(term);
    await term.waitFor('Core track');
    assert.doesNotMatch(term.screen(true), /\u001B\[[0-9;]*3\dm/, 'no foreground colours');
    await term.waitForRawMode();
    term.keys('C-c');
    await term.waitFor('[exited 0]');
  });
});
