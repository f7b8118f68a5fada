import { Text, useInput } from 'ink';

export type Props = {
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly onSubmit: (value: string) => void;
  readonly onCancel: () => void;
};

/** A one-line text input: type, Backspace, Enter to accept, Esc to cancel. */
export default function TextField({ value, onChange, onSubmit, onCancel }: Props) {
  useInput((input, key) => {
    if (key.return) onSubmit(value);
    else if (key.escape) onCancel();
    else if (key.backspace || key.delete) onChange(value.slice(0, -1));
    else if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow && !key.tab) onChange(value + input);
  });
  return (
    <Text>
      <Text color="cyan">{value}</Text>
      <Text inverse> </Text>
    </Text>
  );
}
