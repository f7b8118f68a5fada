// What a visitor's request and answer are made of, below the visitor itself: the headers the
// app (and any cache in front of it) sees, the body decoded as a browser does, and the answers
// given for requests that got none.
import zlib from 'node:zlib';
import { COURSE_REQUEST_HEADERS } from '../runtime/dispatcher.ts';
import type { Reply } from './visitor.ts';

/** A request's headers as the app (and any cache in front of it) sees them: without the course's own. */
export function withoutCourseHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !COURSE_REQUEST_HEADERS.has(name.toLowerCase())));
}

export function toList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function decode(raw: Buffer, encoding: string): string {
  try {
    const kind = encoding.trim().toLowerCase();
    if (kind === 'gzip' || kind === 'x-gzip') return zlib.gunzipSync(raw).toString('utf8');
    if (kind === 'deflate') {
      try {
        return zlib.inflateSync(raw).toString('utf8');
      } catch {
        return zlib.inflateRawSync(raw).toString('utf8');
      }
    }
    if (kind === 'br') return zlib.brotliDecompressSync(raw).toString('utf8');
    const zstd = (zlib as { zstdDecompressSync?: (data: Buffer) => Buffer }).zstdDecompressSync;
    if (kind === 'zstd' && zstd) return zstd(raw).toString('utf8');
  } catch {
    /* fall through: show the bytes as they came */
  }
  return raw.toString('utf8');
}

export function noAnswer(visitor: string, method: string, path: string, error: unknown): Reply {
  const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
  const text = timedOut ? 'no answer in time' : `no answer: ${(error as Error).message}`;
  return { visitor, method, path, worker: null, status: 0, body: text, text, contentType: '', json: undefined, setCookie: [] };
}

/** A reply for a request the browser could not even make (the form it was told to use is missing). */
export function syntheticFailure(visitor: string, method: string, path: string, why: string): Reply {
  return { visitor, method, path, worker: null, status: 0, body: why, text: why, contentType: '', json: undefined, setCookie: [] };
}
