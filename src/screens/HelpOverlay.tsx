import { Box, Text } from 'ink';
import { KEY_HELP } from './keys.js';

export function HelpOverlay() {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold>Keys</Text>
      {KEY_HELP.map(({ keys, action }) => (
        <Text key={keys}>
          <Text bold>{keys.padEnd(14)}</Text> {action}
        </Text>
      ))}
      <Text dimColor>Every action is written to the session journal. Press ? or Esc to close.</Text>
    </Box>
  );
}
