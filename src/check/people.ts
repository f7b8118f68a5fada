// Who the check's visitors are: plausible people and programs, drawn from the run's seed. A
// browser sends what that browser sends (its User-Agent, Accept, language, client hints, fetch
// metadata); an API client sends what curl, requests or axios send. Addresses look like the
// public addresses a proxy sees. Nothing here is specific to the course: the app cannot tell a
// check's visitor from a person by any of it.

/** What a request is, for the headers a browser would send with it. */
export type RequestPurpose = 'navigate' | 'form' | 'fetch';

export interface Profile {
  readonly kind: 'browser' | 'api';
  /** A short description for transcripts: "Firefox 145 on Linux". */
  readonly label: string;
  readonly userAgent: string;
  /** Headers for a request of this purpose, in the order the client sends them (no cookie, no host). */
  headers(purpose: RequestPurpose, context: { readonly origin: string; readonly referer?: string; readonly crossSite?: boolean; readonly json: boolean }): Record<string, string>;
  /** Where the client puts Host, Connection and Cookie among those, on an HTTP/1.1 connection. */
  readonly wire: Wire;
}

/** How a client lays out its request headers: see wireHeaders(). */
interface Wire {
  /** Host first (browsers, curl, requests, Go, okhttp), or after the client's own headers (Node's http, under axios). */
  readonly host: 'first' | 'after';
  /** The Connection header it sends, if any. */
  readonly connection?: string;
  /** Connection right after Host (Chrome, okhttp), or before the header named `before` (Firefox), or last. */
  readonly connectionAt: 'after-host' | 'before' | 'last';
  /** The cookie right after this header (Safari), before the header named `before` (Firefox), or last (Chrome). */
  readonly cookieAfter?: string;
  /** Firefox's: Connection and Cookie go before the first header starting with one of these. */
  readonly before?: readonly string[];
}

/** A header's name as the client writes it on HTTP/1.1: Title-Case, but Chrome's client hints stay in lower case. */
function wireName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.startsWith('sec-ch-')) return lower;
  return lower.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}

/**
 * A request's headers as the client writes them on the wire, as Node's http.request takes them
 * (a flat list of names and values): Host, Connection and Cookie where that client puts them,
 * every name in its case. `headers` are the profile's, then anything the request adds (the
 * content's type and length, the cookie); other headers (the course's own, which the balancer
 * removes) go last.
 */
export function wireHeaders(profile: Profile, host: string, headers: Readonly<Record<string, string>>): string[] {
  const { wire } = profile;
  const entries = Object.entries(headers);
  const cookie = entries.find(([name]) => name.toLowerCase() === 'cookie');
  const own = entries.filter(([name]) => name.toLowerCase() !== 'cookie' && name.toLowerCase() !== 'host' && name.toLowerCase() !== 'connection');
  const line: Array<[string, string]> = [];
  const connection: Array<[string, string]> = wire.connection ? [['Connection', wire.connection]] : [];
  if (wire.host === 'first') line.push(['Host', host]);
  if (wire.connectionAt === 'after-host') line.push(...connection);
  let connectionPlaced = wire.connectionAt === 'after-host';
  let cookiePlaced = !cookie;
  for (const [name, value] of own) {
    const lower = name.toLowerCase();
    if (wire.before && wire.before.some((prefix) => lower.startsWith(prefix))) {
      if (!connectionPlaced && wire.connectionAt === 'before') line.push(...connection);
      connectionPlaced = true;
      if (!cookiePlaced && !wire.cookieAfter) line.push(['Cookie', cookie![1]]);
      cookiePlaced = true;
    }
    line.push([lower.startsWith('x-course-') ? name : wireName(name), value]);
    if (!cookiePlaced && wire.cookieAfter === lower) {
      line.push(['Cookie', cookie![1]]);
      cookiePlaced = true;
    }
  }
  if (wire.host === 'after') line.push(['Host', host]);
  if (!connectionPlaced) line.push(...connection);
  if (!cookiePlaced) line.push(['Cookie', cookie![1]]);
  return line.flat();
}

type Random = () => number;

const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const between = (random: Random, low: number, high: number): number => low + Math.floor(random() * (high - low + 1));

const LANGUAGES = ['en-US,en;q=0.9', 'en-GB,en;q=0.9', 'de-DE,de;q=0.9,en;q=0.8', 'fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7', 'nl-NL,nl;q=0.9,en;q=0.8', 'es-ES,es;q=0.9', 'pt-BR,pt;q=0.9,en;q=0.8', 'en-US,en;q=0.5'];

interface Platform {
  readonly name: string;
  readonly ua: string;
  readonly hint: string;
  readonly mobile: boolean;
}

const PLATFORMS: readonly Platform[] = [
  { name: 'Windows', ua: 'Windows NT 10.0; Win64; x64', hint: '"Windows"', mobile: false },
  { name: 'macOS', ua: 'Macintosh; Intel Mac OS X 10_15_7', hint: '"macOS"', mobile: false },
  { name: 'Linux', ua: 'X11; Linux x86_64', hint: '"Linux"', mobile: false },
  { name: 'Android', ua: 'Linux; Android 10; K', hint: '"Android"', mobile: true },
];

function chromium(random: Random): Profile {
  const platform = pick(random, PLATFORMS);
  const version = between(random, 128, 143);
  const edge = !platform.mobile && random() < 0.25;
  const brand = edge ? 'Microsoft Edge' : 'Google Chrome';
  const mobile = platform.mobile ? ' Mobile' : '';
  const userAgent = `Mozilla/5.0 (${platform.ua}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${version}.0.0.0${mobile} Safari/537.36${edge ? ` Edg/${version}.0.0.0` : ''}`;
  const language = pick(random, LANGUAGES);
  const secChUa = `"${brand}";v="${version}", "Chromium";v="${version}", "Not_A Brand";v="24"`;
  return {
    kind: 'browser',
    label: `${edge ? 'Edge' : 'Chrome'} ${version} on ${platform.name}`,
    userAgent,
    wire: { host: 'first', connection: 'keep-alive', connectionAt: 'after-host' },
    headers(purpose, { origin, referer, crossSite, json }) {
      const common = { 'sec-ch-ua': secChUa, 'sec-ch-ua-mobile': platform.mobile ? '?1' : '?0', 'sec-ch-ua-platform': platform.hint };
      if (purpose === 'fetch') {
        return {
          ...common,
          'user-agent': userAgent,
          accept: json ? 'application/json' : '*/*',
          ...(referer ? { origin } : {}),
          'sec-fetch-site': 'same-origin',
          'sec-fetch-mode': 'cors',
          'sec-fetch-dest': 'empty',
          ...(referer ? { referer } : {}),
          'accept-encoding': 'gzip, deflate, br, zstd',
          'accept-language': language,
        };
      }
      // Chrome asks past its cache (max-age=0) when a form is submitted (and on a reload), never
      // when a link is followed or an address typed.
      return {
        ...(purpose === 'form' ? { 'cache-control': 'max-age=0' } : {}),
        ...common,
        ...(purpose === 'form' ? { origin } : {}),
        'upgrade-insecure-requests': '1',
        'user-agent': userAgent,
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
        'sec-fetch-site': crossSite ? 'cross-site' : referer ? 'same-origin' : 'none',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-user': '?1',
        'sec-fetch-dest': 'document',
        ...(referer ? { referer } : {}),
        'accept-encoding': 'gzip, deflate, br, zstd',
        'accept-language': language,
      };
    },
  };
}

function firefox(random: Random): Profile {
  const platform = pick(random, PLATFORMS.filter((p) => !p.mobile));
  const version = between(random, 128, 146);
  const os = platform.name === 'Windows' ? 'Windows NT 10.0; Win64; x64' : platform.name === 'macOS' ? 'Macintosh; Intel Mac OS X 10.15' : 'X11; Linux x86_64';
  const userAgent = `Mozilla/5.0 (${os}; rv:${version}.0) Gecko/20100101 Firefox/${version}.0`;
  const language = pick(random, LANGUAGES);
  return {
    kind: 'browser',
    label: `Firefox ${version} on ${platform.name}`,
    userAgent,
    wire: { host: 'first', connection: 'keep-alive', connectionAt: 'before', before: ['sec-fetch-', 'upgrade-insecure-requests', 'priority'] },
    headers(purpose, { origin, referer, crossSite, json }) {
      if (purpose === 'fetch') {
        return {
          'user-agent': userAgent,
          accept: json ? 'application/json' : '*/*',
          'accept-language': language,
          'accept-encoding': 'gzip, deflate, br, zstd',
          ...(referer ? { referer, origin } : {}),
          'sec-fetch-dest': 'empty',
          'sec-fetch-mode': 'cors',
          'sec-fetch-site': 'same-origin',
        };
      }
      return {
        'user-agent': userAgent,
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
        'accept-language': language,
        'accept-encoding': 'gzip, deflate, br, zstd',
        ...(purpose === 'form' ? { origin } : {}),
        ...(referer ? { referer } : {}),
        'upgrade-insecure-requests': '1',
        'sec-fetch-dest': 'document',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-site': crossSite ? 'cross-site' : referer ? 'same-origin' : 'none',
        'sec-fetch-user': '?1',
        priority: 'u=0, i',
      };
    },
  };
}

function safari(random: Random): Profile {
  const iphone = random() < 0.5;
  const major = between(random, 17, 18);
  const minor = between(random, 0, 6);
  const userAgent = iphone
    ? `Mozilla/5.0 (iPhone; CPU iPhone OS ${major}_${minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${major}.${minor} Mobile/15E148 Safari/604.1`
    : `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${major}.${minor} Safari/605.1.15`;
  const language = pick(random, ['en-US,en;q=0.9', 'en-GB,en;q=0.9', 'de-DE,de;q=0.9', 'fr-FR,fr;q=0.9']);
  return {
    kind: 'browser',
    label: `Safari ${major}.${minor} on ${iphone ? 'iPhone' : 'macOS'}`,
    userAgent,
    wire: { host: 'first', connection: 'keep-alive', connectionAt: 'last', cookieAfter: 'sec-fetch-site' },
    headers(purpose, { origin, referer, crossSite, json }) {
      if (purpose === 'fetch') {
        return {
          accept: json ? 'application/json' : '*/*',
          'sec-fetch-site': 'same-origin',
          ...(referer ? { origin } : {}),
          'sec-fetch-mode': 'cors',
          'user-agent': userAgent,
          ...(referer ? { referer } : {}),
          'sec-fetch-dest': 'empty',
          'accept-language': language,
          'accept-encoding': 'gzip, deflate, br',
        };
      }
      return {
        ...(purpose === 'form' ? { origin } : {}),
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
        'sec-fetch-site': crossSite ? 'cross-site' : referer ? 'same-origin' : 'none',
        'sec-fetch-dest': 'document',
        'accept-language': language,
        'sec-fetch-mode': 'navigate',
        'user-agent': userAgent,
        ...(referer ? { referer } : {}),
        'accept-encoding': 'gzip, deflate, br',
      };
    },
  };
}

/** A program calling the API: the headers its HTTP library sends by default. */
function apiClient(random: Random): Profile {
  const clients: ReadonlyArray<() => { label: string; userAgent: string; accept: string; acceptJson: string; encoding?: string; wire?: Wire }> = [
    () => {
      const v = `8.${between(random, 5, 17)}.0`;
      return { label: `curl ${v}`, userAgent: `curl/${v}`, accept: '*/*', acceptJson: 'application/json' };
    },
    () => {
      const v = `2.${between(random, 28, 32)}.${between(random, 0, 4)}`;
      return { label: `python-requests ${v}`, userAgent: `python-requests/${v}`, accept: '*/*', acceptJson: '*/*', encoding: 'gzip, deflate', wire: { host: 'first', connection: 'keep-alive', connectionAt: 'last' } };
    },
    () => {
      const v = `1.${between(random, 6, 13)}.${between(random, 0, 7)}`;
      return {
        label: `axios ${v}`,
        userAgent: `axios/${v}`,
        accept: 'application/json, text/plain, */*',
        acceptJson: 'application/json, text/plain, */*',
        encoding: 'gzip, compress, deflate, br',
        wire: { host: 'after', connection: 'keep-alive', connectionAt: 'last' },
      };
    },
    () => {
      const v = `4.${between(random, 9, 12)}.0`;
      return { label: `okhttp ${v}`, userAgent: `okhttp/${v}`, accept: 'application/json', acceptJson: 'application/json', encoding: 'gzip', wire: { host: 'first', connection: 'Keep-Alive', connectionAt: 'after-host' } };
    },
    () => {
      const v = `3.2.${between(random, 1, 4)}`;
      return { label: `HTTPie ${v}`, userAgent: `HTTPie/${v}`, accept: '*/*', acceptJson: 'application/json, */*;q=0.5', encoding: 'gzip, deflate', wire: { host: 'first', connection: 'keep-alive', connectionAt: 'last' } };
    },
    () => ({ label: 'Go http client', userAgent: 'Go-http-client/1.1', accept: 'application/json', acceptJson: 'application/json', encoding: 'gzip' }),
  ];
  const client = pick(random, clients)();
  return {
    kind: 'api',
    label: client.label,
    userAgent: client.userAgent,
    // curl and Go: Host first, no Connection header.
    wire: client.wire ?? { host: 'first', connectionAt: 'last' },
    headers(_purpose, { json }) {
      return {
        'user-agent': client.userAgent,
        ...(client.encoding ? { 'accept-encoding': client.encoding } : {}),
        accept: json ? client.acceptJson : client.accept,
      };
    },
  };
}

/** A browser a person might use, drawn from the seed: mostly Chrome, then Safari, Firefox, Edge. */
export function drawBrowser(random: Random): Profile {
  const r = random();
  if (r < 0.55) return chromium(random);
  if (r < 0.8) return safari(random);
  return firefox(random);
}

export function drawApiClient(random: Random): Profile {
  return apiClient(random);
}

/**
 * A public-looking client address, as the first proxy writes it into X-Forwarded-For: IPv4 from
 * ordinary ranges (no private, loopback, documentation or multicast block), now and then IPv6.
 */
export function drawAddress(random: Random): string {
  if (random() < 0.15) {
    const group = () => between(random, 0, 0xffff).toString(16);
    return `2${between(random, 0x001, 0xa0f).toString(16).padStart(3, '0')}:${group()}:${group()}:${group()}::${group()}`;
  }
  for (;;) {
    const a = between(random, 1, 223);
    const b = between(random, 0, 255);
    if (a === 10 || a === 127 || a === 0 || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168)) continue;
    if ((a === 192 && b === 0) || (a === 198 && (b === 18 || b === 19 || b === 51)) || (a === 203 && b === 0)) continue;
    return `${a}.${b}.${between(random, 0, 255)}.${between(random, 1, 254)}`;
  }
}
