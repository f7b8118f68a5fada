// The playground's host switch: h moves the app from the course's host to Node's own
// node:cluster and back, with the worker panels and the request log working on both. On the
// cluster a kept-alive connection stays on one worker, and fresh connections go round them.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { cleanup } from 'ink-testing-library';
import { findLesson } from '../../src/lessons/catalogue.ts';
import App from '../../src/ui/App.tsx';
import Playground from '../../src/ui/Playground.tsx';
import { allGone } from '../helpers/processes.ts';
import { renderAt, testCourse, waitForFrame, type TestCourse } from './helpers.tsx';

const lesson3 = findLesson('3')!;
const flask3 = findLesson('3', 'flask')!;
const pidsIn = (frame: string) => [...frame.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
const urlIn = (frame: string) => /http:\/\/127\.0\.0\.1:\d+\//.exec(frame)?.[0];
const idle = (frame: string, n: number) => (frame.match(/● idle/g) ?? []).length === n;
const servedBy = (frame: string) => [...frame.matchAll(/GET \/api\/basket → worker (\d) 200/g)].map((m) => Number(m[1]));

/** `n` GETs of the basket, one after the other, through `agent` (false: a fresh connection each). */
async function baskets(url: string, n: number, agent: http.Agent | false): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) => {
      http
        .get(new URL('/api/basket', url), { agent }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        })
        .on('error', reject);
    });
  }
}

describe('playground host switch', () => {
  let course: TestCourse | undefined;
  afterEach(async () => {
    cleanup();
    await course?.cleanup();
    course = undefined;
  });

  test('h runs the app on node:cluster: one kept-alive connection stays on one worker, fresh ones go round; h again goes back', async () => {
    // Given the playground running lesson 3's starter on the course's host, 3 workers
    course = testCourse();
    const r = renderAt(<App session={course.session} openSession={() => course!.session} resources={course.resources} cwd={course.dir} lesson={lesson3.number} />, {
      columns: 110,
      rows: 40,
    });
    await waitForFrame(r, 'p playground');
    r.stdin.write('p');
    const onCourse = await waitForFrame(r, (f) => !!urlIn(f) && idle(f, 3), 60_000);
    assert.match(onCourse, /h node:cluster/);
    const coursePids = pidsIn(onCourse);

    // When the learner presses h
    r.stdin.write('h');
    const onCluster = await waitForFrame(r, (f) => /your app on node:cluster, 3 workers/.test(f) && !!urlIn(f) && idle(f, 3), 60_000);
    // Then the app runs on node:cluster, on the session's URL, with a panel per cluster worker
    assert.equal(urlIn(onCluster), urlIn(onCourse), 'the same URL');
    assert.match(onCluster, /h the course's host/);
    assert.match(onCluster, /A browser keeps its connection, so it stays on one worker/);
    const clusterPids = pidsIn(onCluster);
    assert.equal(clusterPids.length, 3);
    assert.ok(clusterPids.every((pid) => !coursePids.includes(pid)), 'fresh processes');
    assert.ok(await allGone(coursePids), "the course host's workers exited");
    const url = urlIn(onCluster)!;

    // When a browser asks four times over one kept-alive connection
    const browser = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await baskets(url, 4, browser);
    const kept = await waitForFrame(r, (f) => servedBy(f).length === 4);
    browser.destroy();
    // Then one worker served all four
    assert.equal(new Set(servedBy(kept)).size, 1, kept);
    // When it asks six times more, each over a fresh connection
    await baskets(url, 6, false);
    const fresh = await waitForFrame(r, (f) => servedBy(f).length === 10);
    // Then every worker served some: the primary hands each new connection to the next worker
    assert.deepEqual(new Set(servedBy(fresh).slice(4)), new Set([1, 2, 3]), fresh);
    assert.match(fresh, /served [2-9]/);

    // When the learner presses h again
    r.stdin.write('h');
    const back = await waitForFrame(r, (f) => /^your app on 3 workers: each a process/m.test(f) && !!urlIn(f) && idle(f, 3), 60_000);
    // Then the course's host runs it again, on the same URL, and no cluster process is left
    assert.equal(urlIn(back), url);
    assert.ok(await allGone(clusterPids), 'the cluster workers exited');
    const last = pidsIn(back);
    r.stdin.write('b');
    await waitForFrame(r, 'c check');
    assert.ok(await allGone(last), 'no worker outlives the playground');
  });

  test('a Flask app stays on the course host: no h key, and h does nothing', async () => {
    // Given the playground of a Flask workspace's lesson (its app need not start for the keys to show)
    course = testCourse();
    const missing = path.join(course.dir, 'flask', 'app.py');
    const r = renderAt(course.wrap(<Playground lesson={flask3} files={{ mine: missing, reference: missing }} onBack={() => {}} />), { columns: 110, rows: 30 });
    const first = await waitForFrame(r, (f) => /m run the reference fix/.test(f) && !/Starting…/.test(f), 60_000);
    assert.doesNotMatch(first, /node:cluster/);
    // When the learner presses h
    r.stdin.write('h');
    r.stdin.write('m');
    // Then only m's restart happens: the app never moves to node:cluster
    const after = await waitForFrame(r, /Starting the reference fix on 3 workers…/, 60_000);
    assert.doesNotMatch(after, /node:cluster/);
  });
});
