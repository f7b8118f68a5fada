// The check's visitors look like people: real browsers and API clients drawn from the run's seed,
// a public address reported by the host's proxy, pages, forms and redirects as a browser does
// them, and nothing course-only in what the app receives.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCheck } from '../src/check/engine.ts';
import type { CheckContext, Lesson } from '../src/check/lesson.ts';
import { pageText } from '../src/check/visitor.ts';
import { drawBrowser } from '../src/check/people.ts';
import { seededRandom, type Policy } from '../src/runtime/dispatcher.ts';

const echoApp = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'runtime', 'echo.js');

interface Seen {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly raw: string[];
  readonly body?: Record<string, string>;
}

/** A one-step lesson whose step is `run`, checked against the echo app. */
async function withVisitors(seed: number, run: (ctx: CheckContext) => Promise<void>, options: { policy?: Policy; workers?: number } = {}): Promise<void> {
  let failure: unknown;
  const lesson: Lesson = {
    number: 99,
    slug: '99-echo',
    title: 'echo',
    track: 'core',
    summary: '',
    file: 'echo.js',
    text: () => '',
    why: () => '',
    hints: [],
    workers: 2,
    mode: 'concurrent',
    seed: () => ({}),
    steps: [
      {
        title: 'visit',
        async run(ctx) {
          try {
            await run(ctx);
          } catch (error) {
            failure = error;
          }
        },
      },
    ],
  };
  const result = await runCheck(lesson, { appFile: echoApp, seed, ...options });
  if (failure) throw failure;
  assert.ok(result.passed, JSON.stringify(result.steps));
}

const seenBy = async (ctx: CheckContext, name: string, options?: Parameters<CheckContext['visitor']>[1]): Promise<Seen> =>
  (await ctx.visitor(name, options).get('/echo')).json as Seen;

describe('visitors', () => {
  test("the app receives each client's headers as that client writes them: Host first (after its own for axios), names in the client's case", async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      await withVisitors(seed, async (ctx) => {
        for (const [name, kind] of [['alice', 'browser'], ['bob', 'browser'], ['till', 'api'], ['ops', 'api']] as const) {
          const visitor = ctx.visitor(name, { kind });
          await visitor.get('/echo');
          const seen = (await visitor.get('/echo')).json as Seen;
          const names = seen.raw.filter((_, i) => i % 2 === 0);
          const label = `${visitor.profile.label}: ${names.join(', ')}`;
          if (visitor.profile.label.startsWith('axios')) assert.ok(names.indexOf('Host') > names.indexOf('User-Agent'), label);
          else assert.equal(names[0], 'Host', label);
          // Chrome's client hints are lower case; every other name the client sends is Title-Case
          for (const header of names.filter((n) => !/^X-Forwarded-/.test(n))) {
            if (header.startsWith('sec-ch-')) assert.match(visitor.profile.label, /^(Chrome|Edge)/, label);
            else assert.match(header, /^[A-Z][a-z]*(-[A-Z][a-z]*)*$/, label);
          }
          if (kind === 'browser') assert.ok(names.includes('Cookie') || !seen.headers.cookie, label);
        }
      });
    }
  });

  test('a link followed from another site is a cross-site navigation: no SameSite=Strict cookie, Sec-Fetch-Site cross-site', async () => {
    await withVisitors(3, async (ctx) => {
      const alice = ctx.visitor('alice');
      await alice.page('/set-cookies');
      const fromMail = (await alice.page('/echo', { from: 'https://mail.example.net/inbox' })).json as Seen;
      assert.equal(fromMail.headers.cookie, 'lax=1');
      assert.equal(fromMail.headers['sec-fetch-site'], 'cross-site');
      assert.equal(fromMail.headers.referer, 'https://mail.example.net/');
      const own = (await alice.page('/echo')).json as Seen;
      assert.deepEqual(own.headers.cookie?.split('; ').sort(), ['lax=1', 'strict=1']);
      assert.notEqual(own.headers['sec-fetch-site'], 'cross-site');
    });
  });

  test('the app receives no course-only header, and the visitor address as X-Forwarded-For', async () => {
    await withVisitors(7, async (ctx) => {
      const seen = await seenBy(ctx, 'alice');
      const courseOnly = Object.keys(seen.headers).filter((h) => h.startsWith('x-course'));
      assert.deepEqual(courseOnly, []);
      assert.equal(seen.headers['x-forwarded-for'], ctx.visitor('alice').address);
      assert.doesNotMatch(seen.headers['x-forwarded-for']!, /^(127\.|10\.|192\.168\.|::1)/);
      assert.equal(seen.headers['user-agent'], ctx.visitor('alice').profile.userAgent);
      assert.match(seen.headers['user-agent']!, /^Mozilla\/5\.0 /);
    });
  });

  test('visitors reach the site at its domain over https through the host proxy: Host, Origin, Referer, X-Forwarded-Proto', async () => {
    const hosts = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      await withVisitors(seed, async (ctx) => {
        const alice = ctx.visitor('alice');
        const page = (await alice.page('/echo')).json as Seen;
        const host = page.headers.host!;
        // A domain name, no port, no address: what a person's browser sends to a deployed shop
        assert.match(host, /^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
        assert.doesNotMatch(host, /^\d+\.\d+\.\d+\.\d+$|localhost/);
        assert.equal(alice.site, `https://${host}`);
        assert.equal(page.headers['x-forwarded-proto'], 'https');
        const posted = (await alice.submit('/echo', { item: 'tea' })).json as Seen;
        assert.equal(posted.headers.origin, `https://${host}`);
        assert.equal(posted.headers.referer, `https://${host}/echo`);
        assert.equal(posted.headers['x-forwarded-proto'], 'https');
        const api = await seenBy(ctx, 'robot', { kind: 'api' });
        assert.equal(api.headers.host, host);
        hosts.add(host);
      });
    }
    assert.ok(hosts.size >= 4, `six runs, ${hosts.size} domains: ${[...hosts].join(', ')}`);
  });

  test('the same seed gives the same site; the jar keeps and sends a Secure cookie; redirects to the http or https address come back over https', async () => {
    const run = async () => {
      let host = '';
      await withVisitors(21, async (ctx) => {
        const alice = ctx.visitor('alice');
        await alice.page('/set-secure');
        const seen = (await alice.page('/echo')).json as Seen;
        host = seen.headers.host!;
        assert.match(seen.headers.cookie ?? '', /(^|; )secure=1/);
        for (const route of ['/to-http', '/to-https']) {
          const landed = await alice.page(route);
          assert.equal(landed.path, '/echo', route);
          assert.equal(landed.redirects?.length, 1, route);
          const there = landed.json as Seen;
          assert.equal(there.headers['x-forwarded-proto'], 'https', route);
          assert.match(there.headers.cookie ?? '', /(^|; )secure=1/, route);
        }
      });
      return host;
    };
    assert.equal(await run(), await run());
  });

  test('a page load is a browser navigation; an API client sends its library defaults', async () => {
    await withVisitors(11, async (ctx) => {
      const page = await ctx.visitor('alice').page('/echo');
      const nav = page.json as Seen;
      assert.match(nav.headers.accept!, /^text\/html/);
      assert.equal(nav.headers['sec-fetch-mode'], 'navigate');
      const api = await seenBy(ctx, 'robot', { kind: 'api' });
      assert.equal(api.headers['sec-fetch-mode'], undefined);
      assert.doesNotMatch(api.headers['user-agent']!, /^Mozilla/);
    });
  });

  test('no browser asks past its cache when a link is followed or an address typed (Chrome does on a form submission)', () => {
    const random = seededRandom(2024);
    const seenOnForms = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const browser = drawBrowser(random);
      const navigate = browser.headers('navigate', { origin: 'https://shop.example', json: false });
      assert.equal(navigate['cache-control'], undefined, `${browser.label}: ${JSON.stringify(navigate)}`);
      assert.equal(navigate.pragma, undefined);
      const form = browser.headers('form', { origin: 'https://shop.example', referer: 'https://shop.example/', json: false });
      if (form['cache-control']) seenOnForms.add(browser.label.split(' ')[0]!);
    }
    assert.deepEqual([...seenOnForms].sort(), ['Chrome', 'Edge']);
  });

  test('the same seed gives the same people; other seeds give others', async () => {
    const agents = async (seed: number) => {
      const list: string[] = [];
      await withVisitors(seed, async (ctx) => {
        for (const name of ['alice', 'bob', 'carol', 'dan']) {
          const seen = await seenBy(ctx, name);
          list.push(`${seen.headers['user-agent']} @ ${seen.headers['x-forwarded-for']}`);
        }
      });
      return list;
    };
    const first = await agents(1234);
    assert.deepEqual(await agents(1234), first);
    assert.notDeepEqual(await agents(4321), first);
    assert.equal(new Set(first).size, 4, 'four visitors, four people');
  });

  test("a colleague shares the visitor's address and browser build, not the cookies", async () => {
    await withVisitors(5, async (ctx) => {
      await ctx.visitor('alice').page('/form').then((page) => ctx.visitor('alice').fillIn(page, { item: 'tea' }));
      const alice = await seenBy(ctx, 'alice');
      const bob = await seenBy(ctx, 'bob', { like: 'alice' });
      assert.equal(bob.headers['user-agent'], alice.headers['user-agent']);
      assert.equal(bob.headers['x-forwarded-for'], alice.headers['x-forwarded-for']);
      assert.match(alice.headers.cookie ?? '', /sent=/);
      assert.equal(bob.headers.cookie, undefined);
    });
  });

  test("a form is filled in as the page defines it, hidden fields kept, and the 303's cookie kept", async () => {
    await withVisitors(3, async (ctx) => {
      const alice = ctx.visitor('alice');
      const form = await alice.page('/form');
      const done = await alice.fillIn(form, { item: 'tea' });
      assert.equal(done.status, 200);
      assert.equal(done.path, '/done');
      assert.equal(done.redirects?.[0]?.status, 303);
      assert.match(await pageText(done.text), /cookie sent=t-123%3Atea/);
      const posted = await alice.submit('/echo', { item: 'milk' });
      const seen = posted.json as Seen;
      assert.equal(seen.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(seen.body?.item, 'milk');
      assert.match(seen.headers.referer ?? '', /\/done$/);
    });
  });

  test('per-connection balancing keeps a browser on one worker while its connection lasts, as real balancers do', async () => {
    await withVisitors(
      9,
      async (ctx) => {
        const workersOf = async (name: string) => {
          const seen = new Set<number | null>();
          for (let i = 0; i < 6; i++) seen.add((await ctx.visitor(name).get('/echo')).worker);
          return [...seen];
        };
        const alice = await workersOf('alice');
        const bob = await workersOf('bob');
        assert.equal(alice.length, 1, `alice stayed on one worker: ${alice.join(', ')}`);
        assert.equal(bob.length, 1, `bob stayed on one worker: ${bob.join(', ')}`);
        assert.notEqual(alice[0], bob[0], 'a new connection goes to the next worker');
        ctx.visitor('alice').close();
        const again = await workersOf('alice');
        assert.notEqual(again[0], alice[0], 'after reconnecting, alice may land elsewhere');
      },
      { policy: 'per-connection', workers: 3 },
    );
  });
});
