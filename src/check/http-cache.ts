// HTTP caches between the visitors and the app, as real traffic meets them: each browser keeps
// its own cache, and a shared cache (a CDN, a proxy) sits in front of the host for everyone.
// They keep what the app's own headers allow them to keep (Cache-Control, Expires, Vary), and
// answer the next GET of that address from it without asking the app: a page of changing data
// that the app lets a browser keep shows old data, and a page of one person's data that the app
// lets a shared cache keep (`public`, `s-maxage`) is shown to the next person.
//
// The rules are http-cache-semantics' (RFC 9111), with what browsers add to them:
// - Heuristic freshness: a 200 (or 203) with a Last-Modified and nothing that says how long it
//   stays fresh (no max-age, no Expires, no no-cache) is kept for a tenth of its age, as Chrome
//   and Firefox keep it (RFC 9111 §4.2.2): the page of a shop last edited ten days ago is shown
//   from the browser for a day without asking the app.
// - stale-while-revalidate (RFC 5861): a stale answer still inside its window is given at once,
//   and asked for again in the background; the next look gets what that background request
//   brought. Chrome does this for a page's subresources and its script's fetches, Firefox for
//   every load, pages included; so does a CDN.
// The caches' clock stands still during a check: whatever the app lets them keep for any time at
// all is still fresh when the check comes back, so the verdict never depends on how fast the
// machine is. A shared cache keeps only what the app marks for shared caches explicitly, as CDNs
// in front of dynamic pages do by default.
import CachePolicy from 'http-cache-semantics';

/** Who answered from a cache. */
export type CacheKind = 'browser' | 'shared';

/** The caches' time: the same for every entry and every lookup of a run. */
const STILL = Date.now();

class StillPolicy extends CachePolicy {
  now(): number {
    return STILL;
  }
}

export interface CacheRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface CacheResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

interface Entry<T> {
  /** What the cache asks of a stored answer: must-revalidate (and, for a shared cache, proxy-revalidate) left out. */
  readonly policy: CachePolicy;
  readonly value: T;
  /** must-revalidate (proxy-revalidate in a shared cache): usable while fresh, never once stale. */
  readonly mustRevalidate: boolean;
}

/**
 * A kept answer the cache may give only once the app says it is still good: a request sent with
 * its validators (If-None-Match for its ETag, If-Modified-Since for its Last-Modified), as
 * browsers and CDNs revalidate an answer marked no-cache (or whose time is up).
 */
export interface Conditional<T> {
  /** The headers that ask whether the kept answer is still good. */
  readonly headers: Readonly<Record<string, string>>;
  /** The app's answer to them: the kept answer when it says "not modified" (a 304 whose validators match), else undefined. */
  settle(response: CacheResponse): T | undefined;
}

const VALIDATORS = ['if-none-match', 'if-modified-since'] as const;

/** A stored answer a request may be given, and whether to ask the app again in the background. */
export interface CacheHit<T> {
  readonly value: T;
  readonly revalidate: boolean;
}

/**
 * The statuses browsers give heuristic freshness from Last-Modified: Chrome's (200, 203, 206;
 * http-cache-semantics keeps no 206). RFC 9111 allows more (404, 410...); browsers do not use it.
 */
const HEURISTIC_STATUSES: ReadonlySet<number> = new Set([200, 203]);

/** The fraction of a response's age (Date - Last-Modified) browsers keep it fresh for. */
const BROWSER_HEURISTIC = 0.1;

export class HttpCache<T> {
  readonly kind: CacheKind;
  readonly #entries = new Map<string, Entry<T>[]>();
  /** Background revalidations under way, by address. */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(kind: CacheKind) {
    this.kind = kind;
  }

  /** A stored answer this request may be given without waiting for the app, if any. */
  lookup(request: CacheRequest): T | undefined {
    return this.evaluate(request)?.value;
  }

  /**
   * A stored answer this request may be given without waiting for the app, if any, and whether
   * the app must be asked again in the background (stale-while-revalidate): the caller gives the
   * stored answer at once, sends the request on, and hands its promise to `revalidating`.
   */
  evaluate(request: CacheRequest): CacheHit<T> | undefined {
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    const asked = toPolicyRequest(request);
    for (const entry of this.#entries.get(keyOf(request.url)) ?? []) {
      const { response, revalidation } = entry.policy.evaluateRequest(asked);
      if (!response) continue;
      if (!revalidation) return { value: entry.value, revalidate: false };
      if (!revalidation.synchronous && !entry.mustRevalidate) return { value: entry.value, revalidate: true };
    }
    return undefined;
  }

  /**
   * The kept answer this request may be given if the app says it is still good, and the headers
   * that ask the app: for a request no kept answer satisfies (see evaluate) whose address has one
   * with a validator.
   */
  conditional(request: CacheRequest): Conditional<T> | undefined {
    if (request.method !== 'GET') return undefined;
    const asked = toPolicyRequest(request);
    const key = keyOf(request.url);
    for (const entry of this.#entries.get(key) ?? []) {
      const revalidation = entry.policy.revalidationHeaders(asked);
      const headers: Record<string, string> = {};
      for (const name of VALIDATORS) {
        const value = revalidation[name];
        if (typeof value === 'string' && asked.headers[name] === undefined) headers[name] = value;
      }
      if (Object.keys(headers).length === 0) continue;
      return {
        headers,
        settle: (response) => {
          if (response.status !== 304) return undefined;
          const { policy, modified, matches } = entry.policy.revalidatedPolicy(asked, { status: 304, headers: plainHeaders(response.headers) });
          if (modified) return undefined;
          // A 304 that repeats the validators refreshes the kept answer's headers; one without
          // them (Werkzeug sends no Last-Modified with a 304) leaves the kept answer as it was.
          if (matches) {
            const refreshed = { ...entry, policy };
            this.#entries.set(key, (this.#entries.get(key) ?? []).map((e) => (e === entry ? refreshed : e)));
          }
          return entry.value;
        },
      };
    }
    return undefined;
  }

  /**
   * A background revalidation of this address is under way: the next lookup of it waits for it
   * (`settled`), as a person's next look comes after the browser has brought the new copy.
   */
  revalidating(url: string, done: Promise<unknown>): void {
    const key = keyOf(url);
    const pending = done.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.set(key, pending);
    void pending.then(() => {
      if (this.#pending.get(key) === pending) this.#pending.delete(key);
    });
  }

  /** Resolves when no background revalidation of this address is under way. */
  async settled(url: string): Promise<void> {
    const key = keyOf(url);
    for (let pending = this.#pending.get(key); pending; pending = this.#pending.get(key)) await pending;
  }

  /**
   * Keep the app's answer if its headers allow this cache to, and to keep it for some time;
   * an unsafe method's answer drops what was kept for its address and where it redirects.
   */
  store(request: CacheRequest, response: CacheResponse, value: T): void {
    if (!['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes(request.method)) {
      if (response.status >= 200 && response.status < 400) {
        this.#entries.delete(keyOf(request.url));
        const location = headerValue(response.headers.location);
        if (location) this.#entries.delete(keyOf(new URL(location, request.url).href));
      }
      return;
    }
    if (request.method !== 'GET') return;
    const cacheControl = headerValue(response.headers['cache-control']) ?? '';
    // A shared cache in front of an app keeps only what the app marks for it.
    if (this.kind === 'shared' && !/(^|[\s,])(public|s-maxage\s*=)/i.test(cacheControl)) return;
    // must-revalidate forbids a stale answer, not a fresh one: browsers give a page with
    // `max-age=600, must-revalidate` from their cache for ten minutes. http-cache-semantics asks
    // the app whenever it is present, so the cache asks the policy without it, and refuses stale
    // answers itself (no stale-while-revalidate, no heuristic freshness, as in Chrome).
    const revalidateDirective = this.kind === 'shared' ? /^\s*(must|proxy)-revalidate\s*$/i : /^\s*must-revalidate\s*$/i;
    const directives = cacheControl.split(',');
    const mustRevalidate = directives.some((d) => revalidateDirective.test(d));
    const headers = plainHeaders(response.headers);
    const heuristic = HEURISTIC_STATUSES.has(response.status) && !mustRevalidate ? BROWSER_HEURISTIC : 0;
    const options = { shared: this.kind === 'shared', cacheHeuristic: heuristic };
    const stored = new StillPolicy(toPolicyRequest(request), { status: response.status, headers }, options);
    const policy = mustRevalidate
      ? new StillPolicy(toPolicyRequest(request), { status: response.status, headers: { ...headers, 'cache-control': directives.filter((d) => !revalidateDirective.test(d)).join(',') } }, options)
      : stored;
    // Whether it may be stored at all is the full header's answer (must-revalidate lets a shared
    // cache keep an authorised answer); for how long, the answer without it. An answer with no
    // time to live is kept too when it has a validator: the next request asks the app with it.
    if (!stored.storable()) return;
    if (policy.timeToLive() <= 0 && headers.etag === undefined && headers['last-modified'] === undefined) return;
    const key = keyOf(request.url);
    const kept = (this.#entries.get(key) ?? []).filter((entry) => !sameVariant(entry.policy, request));
    this.#entries.set(key, [{ policy, value, mustRevalidate }, ...kept]);
  }
}

function keyOf(url: string): string {
  const parsed = new URL(url);
  parsed.hash = '';
  return parsed.href;
}

function toPolicyRequest(request: CacheRequest): CachePolicy.Request {
  const url = new URL(request.url);
  return { url: url.pathname + url.search, method: request.method, headers: { host: url.host, ...lowerCase(request.headers) } };
}

/** Whether a stored entry would answer this request (fresh, or stale within its stale-while-revalidate window). */
function sameVariant(policy: CachePolicy, request: CacheRequest): boolean {
  return policy.evaluateRequest(toPolicyRequest(request)).response !== undefined;
}

function lowerCase(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function plainHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string | string[]> {
  const plain: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) plain[name.toLowerCase()] = value;
  return plain;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A failed step's diagnosis, with a sentence about caching when some of its answers came from a cache. */
export function withCacheNote(diagnosis: string | undefined, records: readonly { readonly cache?: CacheKind; readonly revalidated?: boolean }[]): string | undefined {
  // A copy the app said was still good (a 304) is the app's own answer, and most often the same
  // bytes it would send: worth a note only when the answer the step stopped at was one.
  const kinds = new Set(records.filter((record) => record.cache && !record.revalidated).map((record) => record.cache!));
  const revalidated = records.at(-1)?.revalidated === true;
  if (kinds.size === 0 && !revalidated) return diagnosis;
  const note = cacheNote(kinds, revalidated);
  return diagnosis ? `${note}\n${diagnosis}` : note;
}

function cacheNote(kinds: ReadonlySet<CacheKind>, revalidated: boolean): string {
  const parts: string[] = [];
  if (revalidated) parts.push("some answers above are a cache's kept copy that the app said was still good: asked with If-None-Match (its ETag) or If-Modified-Since (its Last-Modified), the app answered 304 Not Modified. A validator must change whenever what the answer shows changes; Last-Modified counts whole seconds, so a change within the same second as the kept copy goes unseen");
  if (kinds.has('browser')) parts.push("some answers above came from the visitor's own browser cache, never reaching the app: its Cache-Control (max-age, stale-while-revalidate), Expires, or a Last-Modified with no Cache-Control (browsers then keep an answer for a tenth of its age) let the browser keep them");
  if (kinds.has('shared')) parts.push('some answers came from the shared cache in front of the host (a CDN or proxy), kept from an answer meant for someone else or from before the change: the app marked them `public` (or `s-maxage`)');
  return `Caching: ${parts.join('; ')}. A page or API answer whose data changes, or that belongs to one person, must not be kept fresh by caches: send \`Cache-Control: no-cache\` (caches then ask the app each time, with its ETag or Last-Modified: an ETag made from what the answer shows is safe) or \`no-store\`, or no caching header at all (no Last-Modified either), and \`private\` for one person's data.`;
}
