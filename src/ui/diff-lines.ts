// The reference fix as typed lines of a unified diff against the learner's file, for the
// solution panel to colour.
import { structuredPatch } from 'diff';

export type DiffLine =
  | { readonly kind: 'hunk'; readonly text: string }
  | { readonly kind: 'add'; readonly text: string }
  | { readonly kind: 'remove'; readonly text: string }
  | { readonly kind: 'context'; readonly text: string };

/** Lines that turn `mine` into `reference`; empty when the two are the same. */
export function diffLines(mine: string, reference: string, context = 3): DiffLine[] {
  const patch = structuredPatch('yours', 'reference', mine, reference, undefined, undefined, { context });
  const lines: DiffLine[] = [];
  for (const hunk of patch.hunks) {
    lines.push({ kind: 'hunk', text: `@@ your line ${hunk.oldStart}, reference line ${hunk.newStart} @@` });
    for (const line of hunk.lines) {
      if (line.startsWith('\\')) continue; // "\ No newline at end of file"
      const text = line.slice(1);
      if (line.startsWith('+')) lines.push({ kind: 'add', text });
      else if (line.startsWith('-')) lines.push({ kind: 'remove', text });
      else lines.push({ kind: 'context', text });
    }
  }
  return lines;
}
