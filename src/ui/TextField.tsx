import { useRef } from 'react';
import { Text, useInput } from 'ink';

export type Props = {
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly onSubmit: (value: string) => void;
  readonly onCancel: () => void;
};

/** A one-line text input: type, Backspace, Enter to accept, Esc to cancel. */
export default function TextField({ value, onChange, onSubmit, onCancel }: Props) {
  // Keys can arrive faster than renders (a paste, a held key): edit the latest text, not the last rendered.
  const latest = useRef(value);
  latest.current = value;
  const change = (next: string) => {
    latest.current = next;
    onChange(next);
  };
  useInput((input, key) => {
    if (key.return) onSubmit(latest.current);
    else if (key.escape) onCancel();
    else if (key.backspace || key.delete) change(latest.current.slice(0, -1));
    else if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow && !key.tab) change(latest.current + input);
  });
  return (
    <Text>
      <Text color="cyan">{value}</Text>
      <Text inverse> </Text>
    </Text>
  );
}
