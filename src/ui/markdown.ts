// Lesson text from Markdown to terminal text (marked + marked-terminal, code highlighted).
// Loaded on demand: the first frame does not wait for it.
import { stripVTControlCharacters } from 'node:util';
import { Marked } from 'marked';
import { markedTerminal } from 'marked-terminal';
import wrapAnsi from 'wrap-ansi';

const renderers = new Map<number, Marked>();

function renderer(width: number): Marked {
  let marked = renderers.get(width);
  if (!marked) {
    // The lessons' Markdown is hard-wrapped for reading in an editor: reflow it to the box's
    // width (a resize renders it again at the new width).
    marked = new Marked(markedTerminal({ reflowText: true, width, tab: 2, showSectionPrefix: false, emoji: false }) as never);
    // marked-terminal prints a list item's text as it was written (its `text` renderer drops the
    // inline tokens): render them, so **bold** and `code` in a bullet look as in a paragraph.
    marked.use({
      renderer: {
        text(token) {
          return typeof token === 'object' && 'tokens' in token && token.tokens ? this.parser.parseInline(token.tokens) : false;
        },
      },
    });
    renderers.set(width, marked);
  }
  return marked;
}

export function renderMarkdown(text: string, width: number): string {
  const fit = Math.max(20, width);
  const out = renderer(fit).parse(text, { async: false });
  return out
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()
    .split('\n')
    .map((line) => hang(line, fit))
    .join('\n');
}

/**
 * marked-terminal reflows paragraphs but not list items: wrap a long line under its own text,
 * after its indent and list marker, rather than back at the margin.
 */
function hang(line: string, width: number): string {
  const plain = stripVTControlCharacters(line);
  if (plain.length <= width) return line;
  const indent = /^\s*(?:(?:[*•+-]|\d+\.)\s+)?/.exec(plain)?.[0].length ?? 0;
  const room = Math.max(10, width - indent);
  const [first = '', ...rest] = wrapAnsi(line, room + indent, { hard: true, trim: false }).split('\n');
  if (rest.length === 0) return first;
  // (the pieces keep the space they were cut at: joined, one space between words)
  const continuation = wrapAnsi(rest.join(' ').replace(/ {2,}/g, ' ').trimStart(), room, { hard: true }).split('\n');
  return [first, ...continuation.map((l) => ' '.repeat(indent) + l)].join('\n');
}
