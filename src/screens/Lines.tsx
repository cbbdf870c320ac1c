import { Box, Text } from 'ink';
import type { Line } from './text.js';

/** Draws lines of styled segments, one terminal row each (they are already cut or wrapped to fit). */
export function Lines({ lines }: { lines: readonly Line[] }) {
  return (
    <Box flexDirection="column">
      {lines.map((value, index) => (
        <Text key={index} wrap="truncate-end">
          {value.length === 0
            ? ' '
            : value.map((part, at) => (
                <Text
                  key={at}
                  color={part.color}
                  backgroundColor={part.backgroundColor}
                  bold={part.bold}
                  dimColor={part.dim}
                  underline={part.underline}
                  inverse={part.inverse}
                >
                  {part.text}
                </Text>
              ))}
        </Text>
      ))}
    </Box>
  );
}
