// Markdown rendered for the terminal, once the renderer has loaded (it loads in the background
// after the first frame, so opening a lesson does not wait for it).
import { useEffect, useMemo, useState } from 'react';

type MarkdownModule = typeof import('./markdown.ts');
let loading: Promise<MarkdownModule> | undefined;
let loaded: MarkdownModule | undefined;

/** Start loading the renderer; resolves when it is ready. */
export function preloadMarkdown(): Promise<MarkdownModule> {
  loading ??= import('./markdown.ts').then((module) => {
    loaded = module;
    return module;
  });
  return loading;
}

/** The rendered text, or undefined for the moment the renderer is still loading. */
export function useMarkdown(text: string, width: number): string | undefined {
  const [ready, setReady] = useState(loaded !== undefined);
  useEffect(() => {
    if (loaded) return;
    let live = true;
    void preloadMarkdown().then(() => live && setReady(true));
    return () => {
      live = false;
    };
  }, []);
  return useMemo(() => (ready || loaded ? loaded?.renderMarkdown(text, width) : undefined), [text, width, ready]);
}
