// A simulated visitor: one person with one browser (or one program calling the API), a cookie jar
// of their own and a client address. The visitor addresses the site as people do, at its domain
// over https (Host, Origin, Referer and the cookie jar are the https site's); the connection goes
// to the course's balancer, which stands for the host's TLS-ending proxy. Requests go out on
// node:http over the visitor's own keep-alive connections, as a browser keeps its connection to a
// site; each is recorded for the transcript. A browser visitor loads pages, submits the page's
// forms and follows redirects as browsers do; its `get`/`post` are the page's own script calling
// the API.
import type * as Http from 'node:http';
import { http } from '../runtime/node-http.ts';
import { Cookie, CookieJar } from 'tough-cookie';
import { CLIENT_HEADER, PIN_HEADER, SCHEME_HEADER, VISITOR_HEADER, WORKER_HEADER } from '../runtime/dispatcher.ts';
import { HttpCache, type CacheKind, type Conditional } from './http-cache.ts';
import { wireHeaders, type Profile, type RequestPurpose } from './people.ts';
import { formsOf, summarize } from './pages.ts';
import { decode, noAnswer, syntheticFailure, toList, withoutCourseHeaders } from './wire.ts';

/** One request as the transcript shows it. */
export interface RequestRecord {
  readonly visitor: string;
  readonly method: string;
  readonly path: string;
  /** The worker that served it, numbered from 1; null when no worker answered. */
  readonly worker: number | null;
  readonly status: number;
  /** A short summary of the response body. */
  readonly body: string;
  /** What the request was: a page a browser loaded, a form it submitted, or an API call. */
  readonly kind?: 'page' | 'form' | 'api';
  /** Set when a cache answered (the visitor's browser, or the shared cache in front of the host): no worker saw it, unless `revalidated`. */
  readonly cache?: CacheKind;
  /** The cache asked the app whether its kept copy was still good (If-None-Match, If-Modified-Since), and worker `worker` said yes (304). */
  readonly revalidated?: boolean;
}

export interface Reply extends RequestRecord {
  readonly text: string;
  readonly contentType: string;
  /** The parsed body when it is JSON; undefined otherwise. */
  readonly json: unknown;
  readonly setCookie: readonly string[];
  /** Where a redirect points (the Location header), if any. */
  readonly location?: string;
  /** For a page or form that was redirected: the answers before this one, in order. */
  readonly redirects?: readonly Reply[];
}

/** Who a visitor is, decided when the check first meets them. */
export interface VisitorOptions {
  /** 'browser' (the default): a person with a web browser; 'api': a program calling the API. */
  readonly kind?: 'browser' | 'api';
  /** Another visitor's name: same network (client address) and the same browser build as theirs. */
  readonly like?: string;
}

export interface RequestOptions {
  /** Send the request to worker k (1-based), as a check that must address one worker does. */
  readonly worker?: number;
  readonly json?: unknown;
  /** Extra headers; a `cookie` header here replaces the jar's cookies for this request. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A page load only: the page of another site whose link the person followed (a search result,
   * a link in an email). The browser says so (Referer, Sec-Fetch-Site: cross-site) and sends only
   * the cookies a cross-site navigation gets (none marked SameSite=Strict).
   */
  readonly from?: string;
}

export interface VisitorSetup {
  /** The site's address as people use it: https://<domain>. */
  readonly baseUrl: string;
  /** Where the connections go: the balancer's http://127.0.0.1:PORT (the host's front proxy). */
  readonly balancerUrl: string;
  readonly profile: Profile;
  /** The visitor's public address, as the host's proxy reports it in X-Forwarded-For. */
  readonly address: string;
  readonly record: (reply: Reply) => void;
  readonly timeoutMs?: number;
  /** The cache in front of the host that every visitor's requests pass (a CDN, a proxy). */
  readonly sharedCache?: HttpCache<Reply>;
  /**
   * How far the date runs ahead of this computer's clock when the visitor arrives: the course's
   * date, once a check has moved its clock (days later, say). A cookie's Expires, written on the
   * app's date, is read on that date.
   */
  readonly dateAheadMs?: number;
}

/** The fields of a form, as a browser sends them. */
export type FormFields = Readonly<Record<string, string | number>>;

const MAX_REDIRECTS = 5;

export class Visitor {
  readonly name: string;
  readonly jar = new CookieJar();
  readonly profile: Profile;
  readonly address: string;
  readonly #base: URL;
  readonly #balancer: URL;
  readonly #record: (reply: Reply) => void;
  readonly #timeoutMs: number;
  readonly #agent: Http.Agent;
  /** Caches this visitor's requests meet, in order: its browser's own (browsers only), then the shared one. */
  readonly #caches: HttpCache<Reply>[];
  /** The page the browser shows now: the Referer of its next form or script request. */
  #currentPage: string | undefined;
  readonly #dateAheadMs: number;

  constructor(name: string, setup: VisitorSetup) {
    this.name = name;
    this.profile = setup.profile;
    this.address = setup.address;
    this.#base = new URL(setup.baseUrl);
    this.#balancer = new URL(setup.balancerUrl);
    this.#record = setup.record;
    this.#timeoutMs = setup.timeoutMs ?? 5000;
    this.#dateAheadMs = setup.dateAheadMs ?? 0;
    // A browser keeps up to six connections to a site open and reuses them.
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
    // A browser keeps an HTTP cache; a program calling the API (curl, a script) does not.
    this.#caches = [...(setup.profile.kind === 'browser' ? [new HttpCache<Reply>('browser')] : []), ...(setup.sharedCache ? [setup.sharedCache] : [])];
  }

  /** The site's address as this visitor uses it: https://<domain>. */
  get site(): string {
    return this.#base.origin;
  }

  get kind(): 'browser' | 'api' {
    return this.profile.kind;
  }

  /** An API request (the page's script for a browser visitor, the program for an API client). */
  get(path: string, options: RequestOptions = {}): Promise<Reply> {
    return this.request('GET', path, options);
  }

  post(path: string, json?: unknown, options: RequestOptions = {}): Promise<Reply> {
    return this.request('POST', path, { ...options, json });
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const json = options.json !== undefined;
    const headers = this.#headers('fetch', { json: true });
    let body: string | undefined;
    if (json) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    return this.#send(method, path, { ...headers, ...options.headers }, body, options.worker, 'api');
  }

  /** Load a page as the browser does when its address is typed or a link is followed; follows redirects. */
  async page(path: string, options: Omit<RequestOptions, 'json'> = {}): Promise<Reply> {
    const reply = await this.#navigate('GET', path, undefined, 'navigate', options);
    return reply;
  }

  /**
   * Submit a form as the browser does: `fields` urlencoded, POSTed to `action`, the redirect that
   * follows (303, 302) loaded as a page. Returns the last answer; the ones before are in `redirects`.
   */
  async submit(action: string, fields: FormFields, options: Omit<RequestOptions, 'json'> = {}): Promise<Reply> {
    const body = new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString();
    return this.#navigate('POST', action, body, 'form', options);
  }

  /**
   * Fill in and submit a form of the page `page` (a reply to `page()`): the form whose action
   * matches `action` when given, else the page's first form with a POST method. Its hidden fields
   * are kept (a token the app put there is sent back), `fields` are filled in, and it is submitted
   * to the form's own action with its own method, as a person's browser would.
   */
  async fillIn(page: Reply, fields: FormFields, options: Omit<RequestOptions, 'json'> & { readonly action?: string } = {}): Promise<Reply> {
    const forms = await formsOf(page.text);
    // Where a form sends, as a browser resolves its action against the page's address.
    const pageUrl = new URL(page.path, this.#base);
    const targetOf = (f: (typeof forms)[number]) => new URL(f.action || page.path, pageUrl);
    const form = options.action === undefined ? (forms.find((f) => f.method === 'POST') ?? forms[0]) : forms.find((f) => targetOf(f).pathname === options.action);
    if (!form) {
      return syntheticFailure(this.name, 'POST', options.action ?? page.path, `the page ${page.path} has no form${options.action ? ` posting to ${options.action}` : ''}`);
    }
    const values: Record<string, string | number> = { ...form.fields };
    for (const [key, value] of Object.entries(fields)) values[key] = value;
    const { pathname, search } = targetOf(form);
    const target = pathname + search;
    const encoded = new URLSearchParams(Object.entries(values).map(([k, v]) => [k, String(v)])).toString();
    if (form.method === 'GET') return this.#navigate('GET', `${target.split('?')[0]}?${encoded}`, undefined, 'navigate', options);
    return this.#navigate('POST', target, encoded, 'form', options);
  }

  /**
   * Let `ms` pass for this visitor's browser, which stays open: cookies whose Max-Age or Expires
   * runs out meanwhile are gone at the next request; session cookies stay.
   */
  async passTime(ms: number): Promise<void> {
    const store = this.jar.store;
    for (const cookie of await store.getAllCookies()) {
      const aged = cookie.clone();
      if (!aged) continue;
      if (aged.expires instanceof Date) aged.expires = new Date(aged.expires.getTime() - ms);
      // A Max-Age counts from when the cookie was set (tough-cookie: from its last use).
      if (aged.creation instanceof Date) aged.creation = new Date(aged.creation.getTime() - ms);
      if (aged.lastAccessed instanceof Date) aged.lastAccessed = new Date(aged.lastAccessed.getTime() - ms);
      await store.updateCookie(cookie, aged);
    }
  }

  /**
   * A Set-Cookie line as the jar keeps it: the jar runs on this computer's clock, so an Expires
   * written on the course's date (dateAheadMs ahead) is moved back by as much.
   */
  #onOwnClock(line: string): string | Cookie {
    if (!this.#dateAheadMs) return line;
    const cookie = Cookie.parse(line);
    if (!cookie || !(cookie.expires instanceof Date)) return line;
    cookie.expires = new Date(cookie.expires.getTime() - this.#dateAheadMs);
    return cookie;
  }

  /** Close the visitor's connections, as a browser closed at the end of a visit. */
  close(): void {
    this.#agent.destroy();
  }

  async #navigate(method: string, path: string, body: string | undefined, purpose: RequestPurpose, options: Omit<RequestOptions, 'json'>): Promise<Reply> {
    const redirects: Reply[] = [];
    let reply: Reply;
    let current = { method, path, body, purpose };
    // A navigation from another site stays cross-site through its redirects.
    const from = method === 'GET' && options.from ? new URL(options.from) : undefined;
    for (let hop = 0; ; hop++) {
      const headers = from
        ? this.profile.headers(current.purpose, { origin: this.#base.origin, referer: `${from.origin}/`, crossSite: true, json: false })
        : this.#headers(current.purpose, { json: false });
      if (current.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const sameSite = from ? 'lax' : 'strict';
      reply = await this.#send(current.method, current.path, { ...headers, ...options.headers }, current.body, options.worker, current.body === undefined ? 'page' : 'form', { sameSite });
      if (!reply.location || ![301, 302, 303, 307, 308].includes(reply.status) || hop >= MAX_REDIRECTS) break;
      redirects.push(reply);
      let next = new URL(reply.location, new URL(current.path, this.#base));
      // A redirect to the site's http address (an app that builds it from a scheme it was not
      // told): the host's port 80 answers every request with a 301 to the https address, which
      // the browser follows as a GET.
      const viaPlainHttp = next.protocol === 'http:' && this.#base.protocol === 'https:' && next.hostname === this.#base.hostname && (next.port === '' || next.port === '80');
      if (viaPlainHttp) next = new URL(next.pathname + next.search, this.#base);
      if (next.origin !== this.#base.origin) break;
      const keep = !viaPlainHttp && (reply.status === 307 || reply.status === 308);
      current = {
        method: keep ? current.method : 'GET',
        path: next.pathname + next.search,
        body: keep ? current.body : undefined,
        purpose: keep ? current.purpose : 'navigate',
      };
    }
    if (this.profile.kind === 'browser' && reply.status > 0) this.#currentPage = new URL(reply.path, this.#base).href;
    return redirects.length ? { ...reply, redirects } : reply;
  }

  #headers(purpose: RequestPurpose, { json }: { json: boolean }): Record<string, string> {
    return this.profile.headers(purpose, { origin: this.#base.origin, referer: this.#currentPage, json });
  }

  /**
   * Send a request through the caches (from the `from`-th on) to the app. A background
   * revalidation (`background`: the index of the cache that asked for it) is not recorded as one
   * of the visitor's requests; its answer is kept by that cache and those in front of the app,
   * and its cookies reach the browser only when the browser's own cache sent it.
   */
  #send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    worker: number | undefined,
    kind: 'page' | 'form' | 'api',
    // sameSite: the cookies' context (RFC 6265bis): 'strict' for the site's own requests, 'lax' for a navigation from another site.
    { from = 0, background, sameSite = 'strict' }: { readonly from?: number; readonly background?: number; readonly sameSite?: 'strict' | 'lax' } = {},
  ): Promise<Reply> {
    const url = new URL(path, this.#base);
    const caches = this.#caches;
    const ownRequest = background === undefined || (caches[background]?.kind === 'browser');
    return new Promise<Reply>((resolve) => {
      void (async () => {
        const outgoing: Record<string, string> = { ...headers, [VISITOR_HEADER]: this.name, [CLIENT_HEADER]: this.address };
        if (url.protocol === 'https:') outgoing[SCHEME_HEADER] = 'https';
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'cookie')) {
          const cookie = await this.jar.getCookieString(url.href, { sameSiteContext: sameSite });
          if (cookie) outgoing.cookie = cookie;
        }
        // What the caches see of the request: what the app would see, without the course's own headers.
        const cacheRequest = { url: url.href, method, headers: withoutCourseHeaders(outgoing) };
        // A kept answer given as it is, or failing that, one with a validator that the app may
        // say is still good: the nearest cache that keeps one asks with it.
        let conditional: { readonly cache: HttpCache<Reply>; readonly ask: Conditional<Reply> } | undefined;
        for (const [index, cache] of caches.entries()) {
          if (index < from) continue;
          // A background revalidation of this address has brought its answer by the next look.
          await cache.settled(url.href);
          const hit = cache.evaluate(cacheRequest);
          if (hit) {
            // Stale-while-revalidate: the kept answer, the app asked again in the background. The
            // visit goes on once that request is back, as a person's next look comes after it:
            // an edit the check makes next never races it.
            if (hit.revalidate) {
              const revalidation = this.#send(method, path, headers, body, worker, kind, { from: index + 1, background: index, sameSite });
              cache.revalidating(url.href, revalidation);
              await revalidation;
            }
            resolve(background === undefined ? this.#fromCache(hit.value, cache.kind, kind) : hit.value);
            return;
          }
          const ask = conditional ? undefined : cache.conditional(cacheRequest);
          if (ask) conditional = { cache, ask };
        }
        if (conditional) Object.assign(outgoing, conditional.ask.headers);
        if (worker !== undefined) outgoing[PIN_HEADER] = String(worker);
        if (body !== undefined) outgoing['content-length'] = String(Buffer.byteLength(body));
        let settled = false;
        const done = (reply: Reply) => {
          if (settled) return;
          settled = true;
          const recorded = { ...reply, kind };
          if (background === undefined) this.#record(recorded);
          resolve(recorded);
        };
        // On the wire as this client writes them: Host first (or where it goes), names in its case.
        const wire = wireHeaders(this.profile, url.host, outgoing);
        const target = { host: this.#balancer.hostname, port: this.#balancer.port, path: url.pathname + url.search };
        const request = http.request({ ...target, method, headers: wire, agent: this.#agent, timeout: this.#timeoutMs }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => done(noAnswer(this.name, method, path, error)));
          response.on('end', () => {
            void (async () => {
              const setCookie = toList(response.headers['set-cookie']);
              if (ownRequest) {
                for (const line of setCookie) {
                  await this.jar.setCookie(this.#onOwnClock(line), url.href, { ignoreError: true, sameSiteContext: sameSite }).catch(() => undefined);
                }
              }
              const text = decode(Buffer.concat(chunks), String(response.headers['content-encoding'] ?? ''));
              const contentType = String(response.headers['content-type'] ?? '');
              const workerHeader = response.headers[WORKER_HEADER];
              let json: unknown;
              if (contentType.includes('json')) {
                try {
                  json = JSON.parse(text);
                } catch {
                  json = undefined;
                }
              }
              const location = response.headers.location;
              const reply: Reply = {
                visitor: this.name,
                method,
                path,
                worker: workerHeader ? Number(workerHeader) : null,
                status: response.statusCode ?? 0,
                body: summarize(text, contentType),
                text,
                contentType,
                json,
                setCookie,
                ...(location ? { location } : {}),
              };
              const stillGood = conditional?.ask.settle({ status: reply.status, headers: response.headers });
              if (conditional && stillGood) {
                // 304 Not Modified: the cache gives its kept copy. Asked by its ETag, the app
                // said the copy is what it would send now (an ETag names what the answer holds,
                // as Express's does): that is the app's own answer. Asked by date only, it is the
                // cache's copy, which the app let it keep.
                const { redirects: _redirects, ...kept } = stillGood;
                const byDate = conditional.ask.headers['if-none-match'] === undefined;
                done({ ...kept, visitor: this.name, worker: reply.worker, setCookie, ...(byDate ? { cache: conditional.cache.kind, revalidated: true } : {}) });
                return;
              }
              // The answer passes the shared cache, then the browser's, each keeping what it may
              // (a revalidation the shared cache sent for itself stops there).
              const keepers = caches.slice(background ?? 0).reverse();
              for (const cache of keepers) cache.store(cacheRequest, { status: reply.status, headers: response.headers }, reply);
              done(reply);
            })();
          });
        });
        request.on('timeout', () => {
          const error = new Error('no answer in time');
          error.name = 'TimeoutError';
          request.destroy(error);
        });
        request.on('error', (error) => done(noAnswer(this.name, method, path, error)));
        request.end(body);
      })();
    });
  }

  /** A kept answer given again: to this visitor, by the cache, with no cookies set again. */
  #fromCache(kept: Reply, cache: CacheKind, kind: 'page' | 'form' | 'api'): Reply {
    const { redirects: _redirects, ...answer } = kept;
    const reply: Reply = { ...answer, visitor: this.name, worker: null, setCookie: [], cache, kind };
    this.#record(reply);
    return reply;
  }
}

export { formsOf, htmlParser, pageText, summarize, type PageForm } from './pages.ts';
