// Reading what a visitor got back: a page's forms and visible text, and one-line summaries of
// answers for transcripts. The HTML parser loads the first time a check reads a page.
import { decodeHTML } from 'entities';

export interface PageForm {
  readonly action: string;
  readonly method: 'GET' | 'POST';
  /** Every named field with its value as the page set it (hidden fields, prefilled inputs, selected options). */
  readonly fields: Readonly<Record<string, string>>;
}

type Parse = typeof import('node-html-parser').parse;
let html: Promise<{ parse: Parse }> | undefined;
/** The HTML parser, loaded the first time a check reads a page. */
export function htmlParser(): Promise<{ parse: Parse }> {
  html ??= import('node-html-parser').then((mod) => ({ parse: mod.parse }));
  return html;
}

/** The forms of a page, as a browser sees them. */
export async function formsOf(page: string): Promise<PageForm[]> {
  const { parse } = await htmlParser();
  const root = parse(page);
  return root.querySelectorAll('form').map((form) => {
    const fields: Record<string, string> = {};
    for (const input of form.querySelectorAll('input, textarea, select')) {
      const name = input.getAttribute('name');
      if (!name) continue;
      const tag = input.tagName.toLowerCase();
      const type = (input.getAttribute('type') ?? '').toLowerCase();
      if (tag === 'input' && (type === 'submit' || type === 'button' || type === 'image' || type === 'reset')) continue;
      if (tag === 'input' && (type === 'checkbox' || type === 'radio') && !input.hasAttribute('checked')) continue;
      if (tag === 'textarea') fields[name] = input.text;
      else if (tag === 'select') {
        const option = input.querySelector('option[selected]') ?? input.querySelector('option');
        fields[name] = option?.getAttribute('value') ?? option?.text ?? '';
      } else fields[name] = input.getAttribute('value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : '');
    }
    return {
      action: form.getAttribute('action') ?? '',
      method: (form.getAttribute('method') ?? 'GET').toUpperCase() === 'POST' ? 'POST' : 'GET',
      fields,
    };
  });
}

/** The visible text of a page, white space folded: what a person reads. */
export async function pageText(page: string): Promise<string> {
  const { parse } = await htmlParser();
  const root = parse(page);
  for (const hidden of root.querySelectorAll('script, style, template')) hidden.remove();
  return root.structuredText.replace(/\s+/g, ' ').trim();
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
    const rawTitle = /<title>([^<]*)<\/title>/i.exec(summary)?.[1];
    const title = rawTitle === undefined ? undefined : decodeHTML(rawTitle).trim();
    const pre = /<pre>([\s\S]*?)<\/pre>/i.exec(summary)?.[1];
    const firstLine = pre === undefined ? undefined : decodeHTML(pre.replace(/<br\s*\/?>/gi, '\n').split('\n')[0]!).trim();
    summary = `HTML page${title ? ` "${title}"` : ''}${firstLine ? `: ${firstLine}` : ''}`;
  }
  summary = summary.replace(/\s+/g, ' ');
  return summary.length > max ? `${summary.slice(0, max - 1)}…` : summary;
}
