// The caches between the visitors and the app (src/check/http-cache.ts) keep what the app's
// headers let them keep, and nothing else.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpCache, withCacheNote } from '../src/check/http-cache.ts';

const url = 'http://127.0.0.1:4000/';
const get = (headers: Record<string, string> = {}) => ({ url, method: 'GET', headers });
const ok = (cacheControl?: string, extra: Record<string, string> = {}) => ({ status: 200, headers: { ...(cacheControl ? { 'cache-control': cacheControl } : {}), ...extra } });

describe('HTTP caches', () => {
  test("a browser keeps what max-age allows, and nothing without it", () => {
    const browser = new HttpCache<string>('browser');
    browser.store(get(), ok(), 'no header');
    assert.equal(browser.lookup(get()), undefined, 'no caching header: asked again');
    for (const header of ['no-cache', 'no-store', 'max-age=0', 'private, no-cache, max-age=600']) {
      browser.store(get(), ok(header), header);
      assert.equal(browser.lookup(get()), undefined, `${header}: asked again`);
    }
    browser.store(get(), ok('private, max-age=1'), 'kept');
    assert.equal(browser.lookup(get()), 'kept', 'any freshness at all is still fresh when the check comes back');
  });

  test('a browser keeps a 200 with Last-Modified and no freshness for a tenth of its age, as Chrome and Firefox do', () => {
    const lastModified = { 'last-modified': 'Mon, 23 Nov 2026 10:00:00 GMT', date: 'Wed, 02 Dec 2026 10:00:00 GMT' };
    const browser = new HttpCache<string>('browser');
    browser.store(get(), ok(undefined, lastModified), 'heuristic');
    assert.equal(browser.lookup(get()), 'heuristic', 'nine days old: fresh for most of a day without asking the app');
    for (const header of ['no-cache', 'no-store', 'max-age=0', 'must-revalidate']) {
      const asked = new HttpCache<string>('browser');
      asked.store(get(), ok(header, lastModified), header);
      assert.equal(asked.lookup(get()), undefined, `${header}: asked again`);
    }
    const expired = new HttpCache<string>('browser');
    expired.store(get(), ok(undefined, { ...lastModified, expires: '0' }), 'expires');
    assert.equal(expired.lookup(get()), undefined, 'an Expires in the past overrides the heuristic');
    const now = new HttpCache<string>('browser');
    now.store(get(), ok(undefined, { 'last-modified': lastModified.date, date: lastModified.date }), 'now');
    assert.equal(now.lookup(get()), undefined, 'modified at the moment of the answer: fresh for no time');
    for (const status of [404, 410, 301]) {
      const other = new HttpCache<string>('browser');
      other.store(get(), { status, headers: lastModified }, String(status));
      assert.equal(other.lookup(get()), undefined, `${status}: browsers apply the heuristic to 200 and 203 only`);
    }
  });

  test('a stale answer within stale-while-revalidate is given at once, with the app asked again in the background', async () => {
    const browser = new HttpCache<string>('browser');
    browser.store(get(), ok('max-age=0, stale-while-revalidate=86400'), 'before');
    assert.deepEqual(browser.evaluate(get()), { value: 'before', revalidate: true });
    assert.equal(browser.lookup(get()), 'before');
    let brought!: () => void;
    browser.revalidating(url, new Promise<void>((resolve) => (brought = resolve)));
    let settled = false;
    const next = browser.settled(url).then(() => (settled = true));
    await Promise.resolve();
    assert.equal(settled, false, 'the next look waits for the background revalidation');
    browser.store(get(), ok('max-age=0, stale-while-revalidate=86400'), 'after');
    brought();
    await next;
    assert.equal(browser.lookup(get()), 'after', 'the next look gets what the background request brought');
    const strict = new HttpCache<string>('browser');
    strict.store(get(), ok('max-age=0, must-revalidate, stale-while-revalidate=86400'), 'strict');
    assert.equal(strict.lookup(get()), undefined, 'must-revalidate overrides stale-while-revalidate');
  });

  test('must-revalidate forbids a stale answer, not a fresh one', () => {
    const browser = new HttpCache<string>('browser');
    browser.store(get(), ok('max-age=600, must-revalidate'), 'fresh');
    assert.equal(browser.lookup(get()), 'fresh', 'browsers give it from their cache while it is fresh');
    const stale = new HttpCache<string>('browser');
    stale.store(get(), ok('max-age=0, must-revalidate'), 'stale');
    assert.equal(stale.lookup(get()), undefined, 'stale: asked again');
    const shared = new HttpCache<string>('shared');
    shared.store(get(), ok('public, max-age=600, proxy-revalidate'), 'fresh');
    assert.equal(shared.lookup(get()), 'fresh', 'proxy-revalidate: the same, for a shared cache');
    const staleShared = new HttpCache<string>('shared');
    staleShared.store(get(), ok('public, max-age=0, proxy-revalidate, stale-while-revalidate=600'), 'stale');
    assert.equal(staleShared.lookup(get()), undefined, 'stale with proxy-revalidate: no stale-while-revalidate in a shared cache');
  });

  test('a shared cache keeps only what is marked for it, and honours private and Vary', () => {
    const shared = new HttpCache<string>('shared');
    shared.store(get(), ok('max-age=600'), 'browser-only');
    assert.equal(shared.lookup(get()), undefined, 'max-age alone is not for a shared cache in front of a dynamic app');
    shared.store(get(), ok('private, max-age=600, s-maxage=600'), 'private');
    assert.equal(shared.lookup(get()), undefined, 'private is never shared');
    shared.store(get({ cookie: 'sid=alice' }), ok('public, max-age=600'), "alice's page");
    assert.equal(shared.lookup(get({ cookie: 'sid=bob' })), "alice's page", 'public: the next visitor gets it, whatever their cookie');
    const varied = new HttpCache<string>('shared');
    varied.store(get({ cookie: 'sid=alice' }), ok('public, max-age=600', { vary: 'Cookie' }), "alice's page");
    assert.equal(varied.lookup(get({ cookie: 'sid=bob' })), undefined, 'Vary: Cookie keeps one copy per cookie');
    assert.equal(varied.lookup(get({ cookie: 'sid=alice' })), "alice's page");
  });

  test('an answer to ask about first (no-cache, max-age=0) is kept only with a validator, and given again only after a 304', () => {
    const browser = new HttpCache<string>('browser');
    browser.store(get(), ok('no-cache'), 'no validator');
    assert.equal(browser.conditional(get()), undefined, 'nothing to ask with: not kept');
    browser.store(get(), ok('no-cache', { etag: '"v1"', 'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT' }), 'page v1');
    assert.equal(browser.lookup(get()), undefined, 'never given without asking');
    const ask = browser.conditional(get())!;
    assert.deepEqual(ask.headers, { 'if-none-match': '"v1"', 'if-modified-since': 'Tue, 01 Dec 2026 10:00:00 GMT' });
    // the app says it changed (a 200 with the new answer): not the kept copy
    assert.equal(ask.settle(ok('no-cache', { etag: '"v2"' })), undefined);
    // the app says it is still good: the kept copy
    assert.equal(ask.settle({ status: 304, headers: { etag: '"v1"' } }), 'page v1');
    // a 304 that leaves out the validators (as Werkzeug's does) still means the kept copy, which stays kept
    const again = browser.conditional(get())!;
    assert.equal(again.settle({ status: 304, headers: { 'cache-control': 'no-cache' } }), 'page v1');
    assert.deepEqual(browser.conditional(get())?.headers, { 'if-none-match': '"v1"', 'if-modified-since': 'Tue, 01 Dec 2026 10:00:00 GMT' });
    // no-store is never kept, whatever its validators
    const strict = new HttpCache<string>('browser');
    strict.store(get(), ok('no-store', { etag: '"v1"' }), 'secret');
    assert.equal(strict.conditional(get()), undefined);
  });

  test('a form sent to an address, or redirecting to one, drops what was kept for it', () => {
    const browser = new HttpCache<string>('browser');
    browser.store(get(), ok('max-age=600'), 'page');
    browser.store({ url: `${url}cart`, method: 'POST', headers: {} }, { status: 303, headers: { location: '/' } }, 'unused');
    assert.equal(browser.lookup(get()), undefined);
  });

  test("a failed step's diagnosis says when answers came from a cache", () => {
    assert.equal(withCacheNote('why', [{}]), 'why');
    assert.match(withCacheNote('why', [{ cache: 'shared' }]) ?? '', /^Caching: .*shared cache.*\nwhy$/s);
    // a copy the app said was still good (304) is noted only when the step stopped at it
    assert.equal(withCacheNote('why', [{ cache: 'browser', revalidated: true }, {}]), 'why');
    assert.match(withCacheNote('why', [{}, { cache: 'browser', revalidated: true }]) ?? '', /^Caching: .*304 Not Modified.*\nwhy$/s);
  });
});
