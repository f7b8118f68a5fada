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

  test('a form sent to an address, or redirecting to one, drops what was kept for it', () => {
    const browser = new HttpCache<string>('browser');
    browser.store(get(), ok('max-age=600'), 'page');
    browser.store({ url: `${url}cart`, method: 'POST', headers: {} }, { status: 303, headers: { location: '/' } }, 'unused');
    assert.equal(browser.lookup(get()), undefined);
  });

  test("a failed step's diagnosis says when answers came from a cache", () => {
    assert.equal(withCacheNote('why', [{}]), 'why');
    assert.match(withCacheNote('why', [{ cache: 'shared' }]) ?? '', /^Caching: .*shared cache.*\nwhy$/s);
  });
});
