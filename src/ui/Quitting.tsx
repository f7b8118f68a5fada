import { Text } from 'ink';

/** The last frame: the workers are being stopped. */
export default function Quitting() {
  return <Text dimColor>Stopping the workers…</Text>;
}
