// Components rendered with ink-testing-library at 80x24: props (or keys) in, frames out.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type React from 'react';
import { Box, Text } from 'ink';
import { cleanup } from 'ink-testing-library';
import type { CheckView } from '../../src/ui/check-state.ts';
import CheckStory from '../../src/ui/CheckStory.tsx';
import KeyBar from '../../src/ui/KeyBar.tsx';
import ScrollView from '../../src/ui/ScrollView.tsx';
import SolutionDiff from '../../src/ui/SolutionDiff.tsx';
import WorkerPanel from '../../src/ui/WorkerPanel.tsx';
import RequestLog from '../../src/ui/RequestLog.tsx';
import Prose from '../../src/ui/Prose.tsx';
import { KEY, renderAt, waitForFrame } from './helpers.tsx';

afterEach(() => cleanup());

const req = (visitor: string, worker: number | null, status = 200, body = '{"items":[]}') => ({ visitor, method: 'GET', path: '/api/basket', worker, status, body });

const failedView: CheckView = {
  phase: 'failed',
  run: 1,
  workers: 3,
  policy: 'round-robin',
  seed: 1,
  ready: 3,
  durationMs: 1234,
  steps: [
    { title: "alice's item shows on worker 2", status: 'passed', requests: [req('alice', 1, 201), req('alice', 2)] },
    {
      title: "bob's basket is his own",
      status: 'failed',
      requests: [req('bob', 3)],
      message: 'Expected bob\'s basket to be empty, got ["tea"].',
      diagnosis: 'One list is shared by every visitor.',
    },
    { title: 'baskets survive a reload', status: 'not-run', requests: [] },
  ],
};

describe('CheckStory', () => {
  test('draws each request to its worker, ticks what passed, and explains the failure', () => {
    const r = renderAt(<CheckStory view={failedView} subject="your app" cwd="/" />);
    const frame = r.lastFrame()!;
    assert.match(frame, /Checking your app on 3 workers · round-robin/);
    assert.match(frame, /✓ alice's item shows on worker 2/);
    assert.match(frame, /alice\s+GET\s+\/api\/basket → worker 1 201/);
    assert.match(frame, /alice\s+GET\s+\/api\/basket → worker 2 200/);
    assert.match(frame, /✗ bob's basket is his own/);
    assert.match(frame, /bob\s+GET\s+\/api\/basket → worker 3 200/);
    assert.match(frame, /Expected bob's basket to be empty, got \["tea"\]\./);
    assert.match(frame, /One list is shared by every visitor\./);
    assert.match(frame, /· baskets survive a reload \(not run\)/);
    assert.match(frame, /FAILED\s+1 of 3 steps passed · 1\.2 s/);
    assert.doesNotMatch(frame, /PASSED/);
  });

  test('while workers start, says how many are ready; a running step is not ticked', () => {
    const view: CheckView = {
      ...failedView,
      phase: 'starting',
      ready: 1,
      durationMs: undefined,
      steps: failedView.steps.map((s, i) => ({ ...s, status: i === 0 ? 'running' : 'pending', requests: [] })),
    };
    const frame = renderAt(<CheckStory view={view} subject="your app" cwd="/" />).lastFrame()!;
    assert.match(frame, /Starting 3 workers… 1 of 3 ready/);
    assert.doesNotMatch(frame, /✓|✗|FAILED|PASSED/);
  });

  test('an app that does not start shows the error with its file and line', () => {
    const view: CheckView = { ...failedView, steps: [], problem: { kind: 'syntax', message: 'SyntaxError: Unexpected token', file: '/w/app.js', line: 4, column: 2 } };
    const frame = renderAt(<CheckStory view={view} subject="your app" cwd="/w" />).lastFrame()!;
    assert.match(frame, /The app did not start\./);
    assert.match(frame, /^SyntaxError: Unexpected token$/m);
    assert.match(frame, /FAILED\s+the app did not start/);
    assert.match(frame, /in app\.js:4:2/);
  });

  test('compact mode hides the requests of passed steps but keeps the failing one\'s', () => {
    const frame = renderAt(<CheckStory view={failedView} subject="your app" cwd="/" compact />).lastFrame()!;
    assert.doesNotMatch(frame, /alice\s+GET/);
    assert.match(frame, /bob\s+GET\s+\/api\/basket → worker 3/);
  });
});

describe('KeyBar', () => {
  test('shows each key with its label, wrapping on a narrow screen', () => {
    const keys = ['check', 'watch', 'playground', 'hint', 'solution', 'reset', 'lesson text', 'back', 'quit'].map((label) => ({ key: label[0], label }));
    const frame = renderAt(<KeyBar keys={keys} />, { columns: 40, rows: 24 }).lastFrame()!;
    for (const { key, label } of keys) assert.ok(frame.includes(`${key} ${label}`), `${key} ${label} in\n${frame}`);
  });
});

describe('WorkerPanel and RequestLog', () => {
  test('a worker panel shows pid, state, served and restarts', () => {
    const frame = renderAt(<WorkerPanel worker={{ index: 2, pid: 4242, state: 'busy', inFlight: 1, served: 7, restarts: 1 }} />).lastFrame()!;
    assert.match(frame, /worker 2/);
    assert.match(frame, /pid 4242/);
    assert.match(frame, /● busy/);
    assert.match(frame, /served 7 ↻1/);
  });

  test('the log shows the newest entries that fit, pages by their title', () => {
    const entries = Array.from({ length: 30 }, (_, i) => ({
      kind: 'request' as const,
      id: i,
      at: '10:00:00',
      visitor: 'browser',
      method: 'GET',
      path: `/page/${i}`,
      worker: (i % 3) + 1,
      status: 200,
      latencyMs: 2,
      body: '<!doctype html><title>Your basket</title>',
    }));
    const frame = renderAt(<RequestLog entries={entries} rows={5} />).lastFrame()!;
    assert.equal(frame.split('\n').length, 5);
    assert.match(frame, /GET \/page\/29 → worker 3 200 2 ms page "Your basket"/);
    assert.doesNotMatch(frame, /\/page\/24 /);
  });
});

describe('SolutionDiff', () => {
  test('marks removed and added lines', () => {
    const frame = renderAt(
      <SolutionDiff
        file="lesson/app.js"
        lines={[
          { kind: 'hunk', text: '@@ your line 1, reference line 1 @@' },
          { kind: 'context', text: 'const db = open();' },
          { kind: 'remove', text: 'const rows = db.all();' },
          { kind: 'add', text: 'const select = db.prepare();' },
        ]}
      />,
    ).lastFrame()!;
    assert.match(frame, /^- const rows = db\.all\(\);$/m);
    assert.match(frame, /^\+ const select = db\.prepare\(\);$/m);
    assert.match(frame, /^ {2}const db = open\(\);$/m);
  });

  test('says so when the learner\'s file already is the fix', () => {
    assert.match(renderAt(<SolutionDiff file="app.js" lines={[]} />).lastFrame()!, /app\.js is the same as the reference fix\./);
  });
});

describe('ScrollView', () => {
  const lines = Array.from({ length: 50 }, (_, i) => <Text key={i}>{`line ${i + 1}`}</Text>);
  /** A ScrollView gets its height from the screen around it: here, 10 rows. */
  const TenRows = ({ children }: { readonly children: React.ReactNode }) => (
    <Box height={10} flexDirection="column">
      {children}
    </Box>
  );

  test('shows the top, then scrolls with the arrow keys and pages', async () => {
    const r = renderAt(<TenRows><ScrollView>{lines}</ScrollView></TenRows>);
    const first = await waitForFrame(r, /lines 1-\d+ of 50/);
    assert.match(first, /^line 1$/m);
    r.stdin.write(KEY.down);
    const down = await waitForFrame(r, /lines 2-/);
    assert.doesNotMatch(down, /^line 1$/m);
    r.stdin.write(KEY.pageDown);
    await waitForFrame(r, (f) => !/lines 2-/.test(f) && /lines \d+-/.test(f));
    r.stdin.write('G');
    const end = await waitForFrame(r, /^line 50$/m);
    assert.match(end, /lines 42-50 of 50/);
  });

  test('every scroll key moves the view: ↑ ↓ j k, PgUp, space, Home End g G', async () => {
    // 10 rows: 9 of content and the hint; a page is 8 rows; the end shows lines 42-50
    const r = renderAt(<TenRows><ScrollView>{lines}</ScrollView></TenRows>);
    await waitForFrame(r, 'lines 1-9 of 50');
    const steps: [string, string, string][] = [
      ['↓', KEY.down, 'lines 2-10'],
      ['j', 'j', 'lines 3-11'],
      ['k', 'k', 'lines 2-10'],
      ['↑', KEY.up, 'lines 1-9'],
      ['space', ' ', 'lines 9-17'],
      ['PgUp', KEY.pageUp, 'lines 1-9'],
      ['End', KEY.end, 'lines 42-50'],
      ['Home', KEY.home, 'lines 1-9'],
      ['G', 'G', 'lines 42-50'],
      ['g', 'g', 'lines 1-9'],
    ];
    for (const [name, key, shown] of steps) {
      r.stdin.write(key);
      await waitForFrame(r, `${shown} of 50`).catch((error: Error) => assert.fail(`${name} should show ${shown}: ${error.message}`));
    }
  });

  test('follow keeps the end in view', async () => {
    const r = renderAt(<TenRows><ScrollView follow>{lines}</ScrollView></TenRows>);
    const frame = await waitForFrame(r, /^line 50$/m);
    assert.doesNotMatch(frame, /^line 1$/m);
  });

  test('content that fits needs no scrolling hint', async () => {
    const r = renderAt(<TenRows><ScrollView>{lines.slice(0, 3)}</ScrollView></TenRows>);
    const frame = await waitForFrame(r, /line 3/);
    assert.doesNotMatch(frame, /to scroll/);
  });
});

describe('theme', () => {
  test('workers have the same colours as in the plain commands', async () => {
    const { WORKER_COLOURS: ui } = await import('../../src/ui/theme.ts');
    const { WORKER_COLOURS: cli } = await import('../../src/cli/format.ts');
    assert.deepEqual(ui, cli);
  });
});

describe('Prose', () => {
  test('wraps at words with no line starting with a space, even where a word ends at the edge', async () => {
    // "reads" ends exactly at column 20: Ink's own wrapping would start the next line with " when".
    const text = 'Worker 3 still reads when it started: the rows are read once.';
    const r = renderAt(
      <Box width={20}>
        <Prose>{text}</Prose>
      </Box>,
    );
    const frame = await waitForFrame(r, (f) => f.split('\n').length >= 3);
    const lines = frame.split('\n');
    assert.ok(lines.every((line) => !line.startsWith(' ')), frame);
    assert.ok(lines.every((line) => line.length <= 20), frame);
    assert.equal(lines.map((l) => l.trim()).join(' '), text);
    r.unmount();
  });
});
