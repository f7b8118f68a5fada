import { useRef, useState, type ReactNode, type RefObject } from 'react';
import { Box, Text, useBoxMetrics, useInput, type DOMElement } from 'ink';

export type Props = {
  readonly children: ReactNode;
  /** Keys scroll this view (↑↓ j k, PgUp PgDn space, Home End g G). */
  readonly active?: boolean;
  /** Keep the end in view as content arrives, until the learner scrolls up. */
  readonly follow?: boolean;
  /**
   * A child of the content to bring into view once it appears (the verdict of a check), with
   * `lead` rows above it, until the learner scrolls.
   */
  readonly anchor?: RefObject<DOMElement | null>;
  readonly lead?: number;
};

type Position = 'top' | 'end' | number;

const unused: RefObject<DOMElement | null> = { current: null };

/** A viewport on content taller than the screen, with a one-line position hint when it scrolls. */
export default function ScrollView({ children, active = true, follow = false, anchor, lead = 4 }: Props) {
  const viewport = useRef<DOMElement>(null);
  const content = useRef<DOMElement>(null);
  const { clientHeight, hasMeasured } = useBoxMetrics(viewport);
  const { height: contentHeight } = useBoxMetrics(content);
  const anchorBox = useBoxMetrics(anchor ?? unused);
  const [position, setPosition] = useState<Position>(follow ? 'end' : 'top');

  const scrollable = hasMeasured && contentHeight > clientHeight;
  // One row of the viewport shows where we are, when there is somewhere to scroll.
  const visible = scrollable ? Math.max(1, clientHeight - 1) : clientHeight;
  const max = Math.max(0, contentHeight - visible);
  const anchored = anchor?.current && anchorBox.hasMeasured && position === 'end';
  const wanted = position === 'top' ? 0 : anchored ? anchorBox.top - lead : position === 'end' ? max : position;
  const top = Math.min(Math.max(0, wanted), max);

  useInput(
    (input, key) => {
      const page = Math.max(1, visible - 1);
      let next: number | undefined;
      if (key.upArrow || input === 'k') next = top - 1;
      else if (key.downArrow || input === 'j') next = top + 1;
      else if (key.pageUp) next = top - page;
      else if (key.pageDown || input === ' ') next = top + page;
      else if (key.home || input === 'g') next = 0;
      else if (key.end || input === 'G') next = max;
      if (next === undefined) return;
      const clamped = Math.min(Math.max(0, next), max);
      setPosition(clamped >= max && follow && !anchored ? 'end' : clamped);
    },
    { isActive: active },
  );

  return (
    <Box ref={viewport} flexDirection="column" flexGrow={1} flexShrink={1} overflow="hidden">
      <Box flexDirection="column" height={scrollable ? visible : undefined} flexShrink={1} overflow="hidden" contentOffsetY={top}>
        <Box ref={content} flexDirection="column" flexShrink={0}>
          {children}
        </Box>
      </Box>
      {scrollable ? (
        <Text dimColor wrap="truncate-end">
          {`${top > 0 ? '↑' : ' '}${top < max ? '↓' : ' '} lines ${top + 1}-${Math.min(contentHeight, top + visible)} of ${contentHeight} · ↑↓ PgUp PgDn to scroll`}
        </Text>
      ) : null}
    </Box>
  );
}
