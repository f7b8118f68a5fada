import { Box, Text, measureElement, type DOMElement } from 'ink';
import { useLayoutEffect, useRef, useState } from 'react';
import wrapAnsi from 'wrap-ansi';

export type Props = {
  readonly children: string;
  readonly color?: string;
  readonly dimColor?: boolean;
};

/**
 * A paragraph wrapped at word boundaries to the width it is given, each line starting at its first
 * word. Ink's own wrapping keeps the space it breaks at, so a line that ends exactly at the edge
 * pushes a space to the start of the next one; this measures the room and wraps the text itself.
 */
export default function Prose({ children, color, dimColor }: Props) {
  const box = useRef<DOMElement>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    if (!box.current) return;
    const measured = Math.floor(measureElement(box.current).width);
    if (measured > 0 && measured !== width) setWidth(measured);
  });
  const text = width > 0 ? wrapAnsi(children, width, { hard: true, trim: true }) : children;
  return (
    <Box ref={box} flexGrow={1}>
      <Text color={color} dimColor={dimColor} wrap="wrap">
        {text}
      </Text>
    </Box>
  );
}
