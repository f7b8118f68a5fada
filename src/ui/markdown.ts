// Lesson text from Markdown to terminal text (marked + marked-terminal, code highlighted).
// Loaded on demand: the first frame does not wait for it.
import { Marked } from 'marked';
import { markedTerminal } from 'marked-terminal';

const renderers = new Map<number, Marked>();

function renderer(width: number): Marked {
  let marked = renderers.get(width);
  if (!marked) {
    // The lessons' Markdown is hard-wrapped for reading in an editor: reflow it to the box's
    // width (a resize renders it again at the new width).
    marked = new Marked(markedTerminal({ reflowText: true, width, tab: 2, showSectionPrefix: false, emoji: false }) as never);
    renderers.set(width, marked);
  }
  return marked;
}

export function renderMarkdown(text: string, width: number): string {
  const out = renderer(Math.max(20, width)).parse(text, { async: false });
  return out.replace(/\n{3,}/g, '\n\n').trimEnd();
}
