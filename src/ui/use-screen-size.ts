// The terminal's size; tests pin it (80x24) through the context instead of a real terminal.
import { createContext, useContext } from 'react';
import { useWindowSize } from 'ink';

export interface ScreenSize {
  readonly columns: number;
  readonly rows: number;
}

export const ScreenSizeContext = createContext<ScreenSize | undefined>(undefined);

export function useScreenSize(): ScreenSize {
  const fixed = useContext(ScreenSizeContext);
  const live = useWindowSize();
  return fixed ?? live;
}
