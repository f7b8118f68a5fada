import { readFileSync } from 'node:fs';

const cache = new Map<string, string>();

/** Read a Markdown file that sits beside a lesson module (copied next to it in dist/). */
export function markdown(moduleUrl: string, name: string): string {
  const url = new URL(name, moduleUrl).href;
  let text = cache.get(url);
  if (text === undefined) {
    text = readFileSync(new URL(url), 'utf8');
    cache.set(url, text);
  }
  return text;
}
