// Expectations that teach: each failure says what was expected, what came back, and what that
// means in the lesson's terms.
import type { Reply } from './visitor.ts';

export interface FailureDetails {
  /** What the check wanted, as a phrase: "bob's list to be empty". */
  readonly expected: string;
  /** What came back, as a phrase: `["tea"] (alice's item)`. */
  readonly got: string;
  /** What it means, in the lesson's terms. */
  readonly diagnosis?: string;
}

export class CheckFailure extends Error {
  readonly expected: string;
  readonly got: string;
  readonly diagnosis?: string;

  constructor(details: FailureDetails) {
    super(`Expected ${details.expected}, got ${details.got}.`);
    this.name = 'CheckFailure';
    this.expected = details.expected;
    this.got = details.got;
    this.diagnosis = details.diagnosis;
  }
}

export function fail(details: FailureDetails): never {
  throw new CheckFailure(details);
}

/** Describe a request for messages: "GET /api/cart (alice, worker 2)". */
export function describe(reply: Reply): string {
  const cache = reply.cache === 'browser' ? "the browser's cache" : 'the shared cache in front of the host';
  const where = reply.revalidated
    ? `, from ${cache}: worker ${reply.worker} answered 304 Not Modified`
    : reply.cache
      ? `, from ${cache}`
      : reply.worker === null
        ? ''
        : `, worker ${reply.worker}`;
  return `${reply.method} ${reply.path} (${reply.visitor}${where})`;
}

/**
 * Demand a 2xx JSON answer and return its body. A crash page, a hang or plain text fails with a
 * message that says which of those it was.
 */
export function expectJson(reply: Reply, shape: string): unknown {
  if (reply.status === 0) {
    fail({
      expected: `an answer to ${describe(reply)}`,
      got: reply.body,
      diagnosis: 'The app never answered. Does every route end with res.json(...) or res.send(...)?',
    });
  }
  if (reply.status === 504) {
    fail({
      expected: `an answer to ${describe(reply)}`,
      got: 'no answer before the time limit',
      diagnosis: 'A handler never sent its response. Does every path through it call res.json(...)?',
    });
  }
  if (reply.status === 502) {
    fail({
      expected: `an answer to ${describe(reply)}`,
      got: `no answer: ${errorText(reply)}`,
      diagnosis: 'The worker process died while handling this request; its last output is below.',
    });
  }
  if (reply.status >= 500) {
    fail({
      expected: `${shape} from ${describe(reply)}`,
      got: `status ${reply.status}: ${reply.body}`,
      diagnosis: 'The app threw an error while handling this request; the error and its line are in the output below.',
    });
  }
  if (reply.status < 200 || reply.status >= 300) {
    fail({ expected: `${shape} from ${describe(reply)}`, got: `status ${reply.status}: ${reply.body}` });
  }
  if (reply.json === undefined) {
    fail({
      expected: `${shape} (JSON) from ${describe(reply)}`,
      got: reply.contentType ? `${reply.contentType.split(';')[0]}: ${reply.body}` : reply.body || 'an empty body',
      diagnosis: 'Answer API routes with res.json(...).',
    });
  }
  return reply.json;
}

/** Read a field that must be an array of strings, failing with the shape expected. */
export function stringList(reply: Reply, field: string): string[] {
  const body = expectJson(reply, `JSON like {"${field}": [...]}`);
  const value = (body as Record<string, unknown> | null)?.[field];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    fail({
      expected: `JSON like {"${field}": ["..."]} from ${describe(reply)}`,
      got: reply.body,
      diagnosis: `Keep the answer's shape: an object whose "${field}" is a list of strings.`,
    });
  }
  return value;
}

function errorText(reply: Reply): string {
  const error = (reply.json as { error?: unknown } | undefined)?.error;
  return typeof error === 'string' ? error : reply.body;
}

/** Format a list for messages: ["tea", "milk"]. */
export function show(list: readonly unknown[]): string {
  return JSON.stringify(list);
}
