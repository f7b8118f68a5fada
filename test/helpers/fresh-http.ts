// Visitors of an app on a real host, each request over a connection of its own (no keep-alive):
// the host's balancer hands every new connection to the next worker, so a person reaches every
// worker by asking again, and nothing can address one worker. Each person keeps a cookie jar.
import http from 'node:http';

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly location?: string;
}

export class Person {
  readonly #cookies = new Map<string, string>();

  readonly name: string;
  readonly #port: number;

  constructor(name: string, port: number) {
    this.name = name;
    this.#port = port;
  }

  get(route: string): Promise<Answer> {
    return this.send('GET', route);
  }

  /** A JSON API call. */
  post(route: string, body: unknown): Promise<Answer> {
    return this.send('POST', route, JSON.stringify(body), 'application/json');
  }

  /** A page's form, sent as a browser sends it (the redirect is not followed). */
  submit(route: string, fields: Record<string, string>): Promise<Answer> {
    return this.send('POST', route, new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded');
  }

  /** The body of a 2xx JSON answer (fails loudly on anything else). */
  async json<T>(route: string): Promise<T> {
    const answer = await this.get(route);
    if (answer.status !== 200) throw new Error(`${this.name}: GET ${route} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    return JSON.parse(answer.body) as T;
  }

  send(method: string, route: string, payload?: string, type?: string): Promise<Answer> {
    const headers: Record<string, string> = { 'user-agent': `Mozilla/5.0 (${this.name})`, accept: '*/*' };
    if (this.#cookies.size > 0) headers.cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (type) headers['content-type'] = type;
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.#port, method, path: route, agent: false, headers }, (res) => {
        this.#keep(res.headers['set-cookie'] ?? []);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  #keep(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expires = attributes.find((a) => a.trim().toLowerCase().startsWith('expires='));
      const gone = value === '' || (expires !== undefined && Date.parse(expires.split('=')[1]!) < Date.now());
      if (gone) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
}
