// Watch mode: call `onSave` when the learner saves a file in the lesson's folder. chokidar sees
// in-place writes, editors' atomic saves (write a temp file, rename it over) and vim's backup
// renames, where fs.watch goes deaf; bursts of events from one save are folded into one call.
import path from 'node:path';
import { useEffect, useRef } from 'react';

/** Events closer together than this are one save (an editor's save is a burst of a few ms). */
export const DEBOUNCE_MS = 100;

/** Editor droppings that are not the learner's code: swap files, backups, vim's 4913 probe. */
export function isEditorNoise(file: string): boolean {
  const name = path.basename(file);
  return name.startsWith('.') || name.endsWith('~') || /\.(swp|swx|swo|tmp)$/.test(name) || /^\d+$/.test(name) || name.startsWith('#');
}

/** Watch `folder` while `enabled`; `onReady` fires once the watcher listens (for tests and the notice). */
export function useWatch(folder: string, enabled: boolean, onSave: (file: string) => void, onReady?: () => void): void {
  const save = useRef(onSave);
  const ready = useRef(onReady);
  save.current = onSave;
  ready.current = onReady;

  useEffect(() => {
    if (!enabled) return;
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let close: (() => Promise<void>) | undefined;
    void import('chokidar').then(({ watch }) => {
      if (closed) return;
      const watcher = watch(folder, {
        ignoreInitial: true,
        atomic: true,
        depth: 3,
        ignored: (file) => file.includes(`${path.sep}node_modules`) || (file !== folder && isEditorNoise(file)),
      });
      close = () => watcher.close();
      const changed = (file: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => save.current(file), DEBOUNCE_MS);
      };
      watcher.on('change', changed).on('add', changed);
      watcher.on('ready', () => ready.current?.());
    });
    return () => {
      closed = true;
      clearTimeout(timer);
      void close?.();
    };
  }, [folder, enabled]);
}
