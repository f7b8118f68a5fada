// marked-terminal 7 ships no types; the one function the course uses.
declare module 'marked-terminal' {
  import type { MarkedExtension } from 'marked';

  export interface TerminalRendererOptions {
    readonly reflowText?: boolean;
    readonly width?: number;
    readonly tab?: number;
    readonly showSectionPrefix?: boolean;
    readonly emoji?: boolean;
    readonly unescape?: boolean;
  }

  export function markedTerminal(options?: TerminalRendererOptions, highlightOptions?: Record<string, unknown>): MarkedExtension;
}
