// The load balancer in front of the workers: an HTTP server on 127.0.0.1 that hands each
// request to one worker, as a host's front server does, and tells which one in a header.
import type * as Http from 'node:http';
import { http } from './node-http.ts';
import type { AddressInfo } from 'node:net';
import type { EventStream, HostEvent } from './events.ts';

/**
 * How the balancer picks a worker. 'per-connection' is what node:cluster, PM2 and most proxies
 * do: a connection is handed to a worker once, and every request on it (a browser keeps its
 * connection open) goes to that worker.
 */
export const POLICIES = ['round-robin', 'random', 'least-busy', 'per-connection'] as const;
export type Policy = (typeof POLICIES)[number];
/** 'sequential': one request at a time per worker (uWSGI, gunicorn sync); 'concurrent': Node's own. */
export type WorkerMode = 'sequential' | 'concurrent';

/** Request header a client may send to be served by worker k (1-based). */
export const PIN_HEADER = 'x-course-pin-worker';
/** Request header naming the simulated visitor, for the transcript. */
export const VISITOR_HEADER = 'x-course-visitor';
/**
 * Request header carrying a simulated visitor's public address: the dispatcher reports it in
 * X-Forwarded-For as a proxy reports the address a request came from, and passes nothing else on.
 */
export const CLIENT_HEADER = 'x-course-client-address';
/**
 * Request header saying which scheme a simulated visitor used ('https': the check's visitors reach
 * the site over https, as people reach a deployed shop). The balancer stands for the host's
 * TLS-ending front proxy: it says so in X-Forwarded-Proto and passes nothing else on. Without it
 * (a person at http://localhost:PORT) the scheme is http.
 */
export const SCHEME_HEADER = 'x-course-scheme';
/** Response header naming the worker (1-based) that served the request. */
export const WORKER_HEADER = 'x-course-worker';
/** The request headers that speak to the balancer alone: it reads them and never passes them on. */
export const COURSE_REQUEST_HEADERS: ReadonlySet<string> = new Set([PIN_HEADER, VISITOR_HEADER, CLIENT_HEADER, SCHEME_HEADER]);

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const BODY_SUMMARY_BYTES = 400;

/** One worker place behind the balancer, kept by the host across restarts of its process. */
export interface Slot {
  readonly index: number;
  /** The worker's port once it listens; rejects when the worker cannot start. */
  port(): Promise<number>;
  inFlight: number;
  served: number;
  readonly waiting: Array<() => void>;
  readonly agent: Http.Agent;
  /** Set once the worker is being replaced (reload): queued requests move to the new workers. */
  readonly retired?: boolean;
}

export interface DispatcherOptions {
  readonly slots: () => readonly Slot[];
  readonly events: EventStream<HostEvent>;
  readonly policy: Policy;
  readonly mode: WorkerMode;
  /** Seed of the random policy. */
  readonly seed: number;
  /** A request with no answer by then gets 504. */
  readonly requestTimeoutMs?: number;
  /** Called when a worker state changes (idle, busy), for panels. */
  readonly onSlotChange?: (slot: Slot) => void;
}

/** mulberry32: a small seeded generator, so a random routing can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #server: Http.Server;
  readonly #random: () => number;
  #next = 0;
  #requestId = 0;
  /** Under 'per-connection': the worker each open connection was handed to. */
  readonly #byConnection = new WeakMap<object, Slot>();

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#random = seededRandom(options.seed);
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 30_000;
  }

  /** Listen on 127.0.0.1; port 0 picks a free one. Rejects with a clear error when the port is taken. */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.#server.off('listening', onListening);
        if (error.code === 'EADDRINUSE') {
          reject(new PortBusyError(port));
        } else reject(error);
      };
      const onListening = () => {
        this.#server.off('error', onError);
        resolve((this.#server.address() as AddressInfo).port);
      };
      this.#server.once('error', onError);
      this.#server.once('listening', onListening);
      this.#server.listen(port, '127.0.0.1');
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #choose(pin: number | undefined, connection?: object): Slot | undefined {
    const slots = this.#options.slots();
    if (slots.length === 0) return undefined;
    if (pin !== undefined) return slots[pin - 1];
    switch (this.#options.policy) {
      case 'per-connection': {
        const kept = connection && this.#byConnection.get(connection);
        if (kept && !kept.retired && slots.includes(kept)) return kept;
        const slot = slots[(this.#next++) % slots.length];
        if (connection && slot) this.#byConnection.set(connection, slot);
        return slot;
      }
      case 'random':
        return slots[Math.floor(this.#random() * slots.length)];
      case 'least-busy': {
        let best = slots[(this.#next++) % slots.length];
        for (const slot of slots) if (load(slot) < load(best)) best = slot;
        return best;
      }
      default:
        return slots[(this.#next++) % slots.length];
    }
  }

  async #acquire(slot: Slot): Promise<void> {
    if (this.#options.mode === 'sequential' && slot.inFlight > 0) {
      await new Promise<void>((resolve) => slot.waiting.push(resolve));
    }
    slot.inFlight++;
    this.#options.onSlotChange?.(slot);
  }

  #release(slot: Slot): void {
    slot.inFlight--;
    slot.served++;
    slot.waiting.shift()?.();
    this.#options.onSlotChange?.(slot);
  }

  async #handle(req: Http.IncomingMessage, res: Http.ServerResponse): Promise<void> {
    const id = ++this.#requestId;
    const started = performance.now();
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const visitor = header(req, VISITOR_HEADER);
    const pinText = header(req, PIN_HEADER);
    const pin = pinText === undefined ? undefined : Number(pinText);
    let slot = this.#choose(pin, req.socket);
    if (!slot) {
      const count = this.#options.slots().length;
      reply(res, 400, { error: `There is no worker ${pinText}: this host runs ${count} worker${count === 1 ? '' : 's'}.` });
      return;
    }
    await this.#acquire(slot);
    for (let moves = 0; slot.retired; moves++) {
      // The worker was replaced (a reload) while this request waited for it: go to its
      // successor. When there is none (the host is stopping), say so instead of waiting.
      slot.inFlight--;
      const next = this.#choose(pin, req.socket);
      if (!next || next.retired || moves >= 3) {
        reply(res, 503, { error: 'The host is stopping; no worker can take this request.' });
        return;
      }
      slot = next;
      await this.#acquire(slot);
    }
    const worker = slot.index;
    const events = this.#options.events;
    events.emit({ type: 'request-start', id, visitor, method, path, worker });
    let summary = '';
    let finished = false;
    const end = (status: number, error?: string) => {
      if (finished) return;
      finished = true;
      this.#release(slot);
      events.emit({
        type: 'request-end',
        id,
        visitor,
        method,
        path,
        worker,
        status,
        latencyMs: performance.now() - started,
        body: summary,
        error,
      });
    };

    let port: number;
    try {
      port = await slot.port();
    } catch (error) {
      const message = `Worker ${worker} could not start: ${(error as Error).message}`;
      summary = message;
      reply(res, 502, { error: message }, worker);
      end(502, message);
      return;
    }

    // The client's headers go on as it wrote them, in its order and its case (what reaches a
    // node:cluster worker is the client's own bytes), without the hop-by-hop ones and the course's.
    const headers: string[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || COURSE_REQUEST_HEADERS.has(lower)) continue;
      if (lower === 'x-forwarded-for' || lower === 'x-forwarded-proto') continue;
      headers.push(name, req.rawHeaders[i + 1]!);
    }
    // As a proxy in front of the workers does: append the address the request came from (a
    // simulated visitor's public address, or the real peer's) and say which scheme it used (the
    // client's own X-Forwarded-Proto is never passed on: the proxy knows where it ended TLS).
    const from = header(req, CLIENT_HEADER) ?? plainAddress(req.socket.remoteAddress);
    const scheme = header(req, SCHEME_HEADER) === 'https' ? 'https' : 'http';
    headers.push('X-Forwarded-For', req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${from}` : from, 'X-Forwarded-Proto', scheme);

    const upstream = http.request({ host: '127.0.0.1', port, method, path, headers, agent: slot.agent });
    const timeoutMs = this.#options.requestTimeoutMs;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            const message = `Worker ${worker} gave no answer within ${timeoutMs} ms.`;
            summary = message;
            upstream.destroy();
            if (!res.headersSent) reply(res, 504, { error: message }, worker);
            else res.destroy();
            end(504, 'timeout');
          }, timeoutMs);

    upstream.on('response', (answer) => {
      const out: Http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name)) out[name] = value;
      }
      out[WORKER_HEADER] = String(worker);
      res.writeHead(answer.statusCode ?? 502, out);
      answer.on('data', (chunk: Buffer) => {
        if (summary.length < BODY_SUMMARY_BYTES) summary += chunk.toString('utf8', 0, BODY_SUMMARY_BYTES - summary.length);
      });
      answer.pipe(res);
      answer.on('end', () => {
        clearTimeout(timer);
        end(answer.statusCode ?? 502);
      });
      answer.on('error', () => {
        clearTimeout(timer);
        res.destroy();
        end(502, 'the worker closed the connection mid-answer');
      });
    });
    upstream.on('error', (error) => {
      clearTimeout(timer);
      if (finished) return;
      const message = `Worker ${worker} closed the connection without an answer (${(error as NodeJS.ErrnoException).code ?? error.message}): it probably crashed.`;
      summary = message;
      if (!res.headersSent) reply(res, 502, { error: message }, worker);
      else res.destroy();
      end(502, message);
    });
    res.on('close', () => {
      if (!finished && !res.writableFinished) {
        upstream.destroy();
        clearTimeout(timer);
        end(499, 'the client went away');
      }
    });
    req.pipe(upstream);
  }
}

export class PortBusyError extends Error {
  readonly port: number;
  constructor(port: number) {
    super(`Port ${port} is already in use on 127.0.0.1. Stop what uses it, or pass --port 0 to pick a free port.`);
    this.name = 'PortBusyError';
    this.port = port;
  }
}

/** "::ffff:127.0.0.1" as "127.0.0.1", as proxies write IPv4 peers. */
function plainAddress(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function load(slot: Slot): number {
  return slot.inFlight + slot.waiting.length;
}

function header(req: Http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function reply(res: Http.ServerResponse, status: number, body: object, worker?: number): void {
  const text = JSON.stringify(body);
  const headers: Http.OutgoingHttpHeaders = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) };
  if (worker !== undefined) headers[WORKER_HEADER] = String(worker);
  res.writeHead(status, headers);
  res.end(text);
}
