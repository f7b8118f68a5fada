// Lesson Markdown for the terminal: reflowed to the box's width, headings and code kept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { lessons, lessonsFor } from '../../src/lessons/catalogue.ts';
import { renderMarkdown } from '../../src/ui/markdown.ts';

describe('renderMarkdown', () => {
  for (const width of [40, 78]) {
    test(`every lesson's text fits ${width} columns`, () => {
      for (const lesson of lessons) {
        for (const text of [lesson.text(), lesson.why(), ...lesson.hints]) {
          const out = stripVTControlCharacters(renderMarkdown(text, width));
          for (const line of out.split('\n')) assert.ok(line.length <= width, `${lesson.slug}: ${line.length} > ${width}: "${line}"`);
        }
      }
    });
  }

  test("a list item's **bold** and `code` are rendered as in a paragraph, not printed as written", () => {
    const out = stripVTControlCharacters(renderMarkdown('- **Each worker** runs `every_day_at(3, job)` once\n- plain\n', 78));
    assert.match(out, /Each worker runs every_day_at\(3, job\) once/);
    // and in every lesson text and why note, on both tracks, at the course's usual width
    for (const lesson of [...lessons, ...lessonsFor('flask')]) {
      for (const text of [lesson.text(), lesson.why()]) {
        // (code blocks, indented or fenced, keep their backticks and stars as written)
        const prose = text.replace(/```[\s\S]*?```/g, '').replace(/^(?: {4}|\t).*$/gm, '');
        const rendered = stripVTControlCharacters(renderMarkdown(prose, 100));
        assert.doesNotMatch(rendered, /\*\*[^*\n]+\*\*/, `${lesson.slug} (${lesson.file}): bold printed as written`);
        assert.doesNotMatch(rendered, /`[^`\n]+`/, `${lesson.slug} (${lesson.file}): code printed as written`);
      }
    }
  });

  test('joins hard-wrapped paragraphs and keeps headings, lists and code', () => {
    const out = stripVTControlCharacters(
      renderMarkdown('# Title\n\nOne sentence that was\nwrapped by hand.\n\n1. first\n2. second\n\n```js\nconst x = 1;\n```\n', 78),
    );
    assert.match(out, /^Title$/m);
    assert.match(out, /One sentence that was wrapped by hand\./);
    assert.match(out, /1\. first/);
    assert.match(out, /const x = 1;/);
    assert.doesNotMatch(out, /```|^# /m);
  });
});
