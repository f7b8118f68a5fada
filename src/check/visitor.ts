// A simulated visitor: a name and a cookie jar of their own, as one person with one browser.
import makeFetchCookie from 'fetch-cookie';
import { CookieJar } from 'tough-cookie';
import { PIN_HEADER, VISITOR_HEADER, WORKER_HEADER } from '../runtime/dispatcher.ts';

/** Every simulated visitor sends the same browser signature, as people on one office network do. */
export const VISITOR_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) CourseBrowser/1.0';

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
}

export interface Reply extends RequestRecord {
  readonly text: string;
  readonly contentType: string;
  /** The parsed body when it is JSON; undefined otherwise. */
  readonly json: unknown;
  readonly setCookie: readonly string[];
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
  readonly headers?: Readonly<Record<string, string>>;
}

export class Visitor {
  readonly name: string;
  readonly jar = new CookieJar();
  readonly #baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #record: (reply: Reply) => void;
  readonly #timeoutMs: number;

  constructor(name: string, baseUrl: string, record: (reply: Reply) => void, timeoutMs = 5000) {
    this.name = name;
    this.#baseUrl = baseUrl;
    this.#record = record;
    this.#timeoutMs = timeoutMs;
    this.#fetch = makeFetchCookie(fetch, this.jar) as unknown as typeof fetch;
  }

  get(path: string, options: RequestOptions = {}): Promise<Reply> {
    return this.request('GET', path, options);
  }

  post(path: string, json?: unknown, options: RequestOptions = {}): Promise<Reply> {
    return this.request('POST', path, { ...options, json });
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = {
      'user-agent': VISITOR_USER_AGENT,
      accept: 'application/json',
      [VISITOR_HEADER]: this.name,
      ...options.headers,
    };
    if (options.worker !== undefined) headers[PIN_HEADER] = String(options.worker);
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    let response: Response;
    try {
      response = await this.#fetch(new URL(path, this.#baseUrl), {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const reply = noAnswer(this.name, method, path, error);
      this.#record(reply);
      return reply;
    }
    const text = await response.text().catch(() => '');
    const contentType = response.headers.get('content-type') ?? '';
    const workerHeader = response.headers.get(WORKER_HEADER);
    let json: unknown;
    if (contentType.includes('json')) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    const reply: Reply = {
      visitor: this.name,
      method,
      path,
      worker: workerHeader ? Number(workerHeader) : null,
      status: response.status,
      body: summarize(text, contentType),
      text,
      contentType,
      json,
      setCookie: response.headers.getSetCookie(),
    };
    this.#record(reply);
    return reply;
  }
}

function noAnswer(visitor: string, method: string, path: string, error: unknown): Reply {
  const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
  const text = timedOut ? 'no answer in time' : `no answer: ${(error as Error).message}`;
  return { visitor, method, path, worker: null, status: 0, body: text, text, contentType: '', json: undefined, setCookie: [] };
}

/** A one-line summary of a response body for transcripts: compact JSON, a page's title, or the text's start. */
export function summarize(text: string, contentType: string, max = 120): string {
  let summary = text.trim();
  if (contentType.includes('json')) {
    try {
      summary = JSON.stringify(JSON.parse(text));
    } catch {
      /* keep the text */
    }
  } else if (contentType.includes('html') || /^<(!doctype|html)/i.test(summary)) {
    const title = /<title>([^<]*)<\/title>/i.exec(summary)?.[1]?.trim();
    const pre = /<pre>([\s\S]*?)<\/pre>/i.exec(summary)?.[1];
    const firstLine = pre?.replace(/<br\s*\/?>/gi, '\n').split('\n')[0]?.replace(/&nbsp;/g, ' ').trim();
    summary = `HTML page${title ? ` "${title}"` : ''}${firstLine ? `: ${firstLine}` : ''}`;
  }
  summary = summary.replace(/\s+/g, ' ');
  return summary.length > max ? `${summary.slice(0, max - 1)}…` : summary;
}
