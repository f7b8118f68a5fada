import { Text } from 'ink';
import { useMarkdown } from './use-markdown.ts';

export type Props = {
  readonly text: string;
  /** Columns the text may use. */
  readonly width: number;
};

/** Markdown drawn for the terminal; the raw text, dimmed, for the instant the renderer loads. */
export default function Markdown({ text, width }: Props) {
  const rendered = useMarkdown(text, width);
  return rendered === undefined ? <Text dimColor>{text.trim()}</Text> : <Text>{rendered}</Text>;
}
