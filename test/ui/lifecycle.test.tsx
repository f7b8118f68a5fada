// No worker outlives the course: a crash of the UI, SIGTERM, and Ctrl-C all stop every running
// host before runUntilExit resolves. Real worker processes, fake terminal streams.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { useEffect, useState } from 'react';
import { Text } from 'ink';
import { Host } from '../../src/runtime/host.ts';
import App from '../../src/ui/App.tsx';
import { runUntilExit } from '../../src/ui/lifecycle.ts';
import { Resources } from '../../src/ui/resources.ts';
import { ScreenSizeContext } from '../../src/ui/use-screen-size.ts';
import { allGone } from '../helpers/processes.ts';
import { KEY, testCourse, waitUntil } from './helpers.tsx';

const counter = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'runtime', 'counter.js');

class FakeStdout extends EventEmitter {
  columns = 80;
  rows = 24;
  frames: string[] = [];
  /** Like a real stream, calls back once written: Ink waits for that before it resolves its exit. */
  write = (frame: string, ...rest: unknown[]) => {
    this.frames.push(frame);
    const done = rest.find((arg): arg is () => void => typeof arg === 'function');
    if (done) setImmediate(done);
    return true;
  };
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  write(data: string) {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = () => {
    const { data } = this;
    this.data = null;
    return data;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

function streams() {
  const stdout = new FakeStdout();
  const stdin = new FakeStdin();
  return { stdout, stdin, options: { stdout: stdout as never, stderr: new FakeStdout() as never, stdin: stdin as never, debug: true, patchConsole: false } };
}

/** Starts a real host of three workers when mounted, registered as the screens register theirs. */
function HostOwner({ resources, onPids, crash }: { readonly resources: Resources; readonly onPids: (pids: number[]) => void; readonly crash?: boolean }) {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    const host = new Host({ appFile: counter, workers: 3, cwd: os.tmpdir() });
    resources.add(() => host.stop());
    void host.start().then(() => {
      onPids(host.workers().map((w) => w.pid));
      setReady(true);
    });
  }, [resources, onPids]);
  if (ready && crash) throw new Error('the UI broke');
  return <Text>{ready ? 'workers ready' : 'starting'}</Text>;
}

describe('runUntilExit', () => {
  const leftovers: number[] = [];
  afterEach(async () => {
    for (const pid of leftovers.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone, as it should be */
      }
    }
  });

  test('a crash of the UI stops every worker and reports the error', async () => {
    const resources = new Resources();
    let pids: number[] = [];
    const { options } = streams();
    const outcome = await runUntilExit(<HostOwner resources={resources} onPids={(p) => leftovers.push(...(pids = p))} crash />, resources, options);
    assert.equal(outcome.code, 1);
    assert.match(String(outcome.crash), /the UI broke/);
    assert.equal(pids.length, 3);
    assert.ok(await allGone(pids, 1000), 'every worker had exited when runUntilExit resolved');
  });

  test('SIGTERM stops every worker and exits with 143', async () => {
    const resources = new Resources();
    let pids: number[] = [];
    const { options } = streams();
    const done = runUntilExit(<HostOwner resources={resources} onPids={(p) => leftovers.push(...(pids = p))} />, resources, options);
    await waitUntil(() => pids.length === 3, 'the workers to start');
    process.emit('SIGTERM', 'SIGTERM');
    const outcome = await done;
    assert.equal(outcome.code, 143);
    assert.ok(await allGone(pids, 1000));
    assert.equal(process.listenerCount('SIGTERM'), 0, 'the handlers are removed afterwards');
  });

  for (const [name, key] of [['Ctrl-C', KEY.ctrlC], ['q', 'q']] as const) test(`${name} in the course quits it and stops what runs`, async () => {
    const course = testCourse();
    try {
      const host = new Host({ appFile: counter, workers: 2, cwd: os.tmpdir() });
      await host.start();
      const pids = host.workers().map((w) => w.pid);
      leftovers.push(...pids);
      course.resources.add(() => host.stop());
      const { stdin, stdout, options } = streams();
      const done = runUntilExit(
        <ScreenSizeContext.Provider value={{ columns: 80, rows: 24 }}>
          <App session={course.session} openSession={() => course.session} resources={course.resources} cwd={course.dir} />
        </ScreenSizeContext.Provider>,
        course.resources,
        options,
      );
      await waitUntil(() => stdout.frames.some((f) => f.includes('Core track')), 'the home screen');
      stdin.write(key);
      const outcome = await done;
      assert.equal(outcome.code, 0);
      assert.ok(await allGone(pids, 1000));
    } finally {
      await course.cleanup();
    }
  });
});
