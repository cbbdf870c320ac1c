import { Select } from '@inkjs/ui';
import { Box, Text, useInput } from 'ink';
import type { Choice } from '../runbook/step.js';

interface Props {
  prompt: string;
  choices: readonly Choice[];
  fallback?: string;
  onChoose(value: string | undefined): void;
}

/** A list to pick from (e.g. which backup to restore). Esc cancels. */
export function ChoicePrompt({ prompt, choices, fallback, onChoose }: Props) {
  useInput((_input, key) => {
    if (key.escape) onChoose(undefined);
  });
  return (
    <Box flexDirection="column" borderStyle="single" borderColor="cyan" paddingX={1}>
      <Text bold>{prompt}</Text>
      <Select
        // Select reports a change only, so the suggested choice goes first (highlighted) rather than preselected.
        options={[...choices]
          .sort((a, b) => Number(b.value === fallback) - Number(a.value === fallback))
          .map((choice) => ({
            label: choice.hint ? `${choice.label}  ${choice.hint}` : choice.label,
            value: choice.value,
          }))}
        visibleOptionCount={10}
        onChange={(value) => onChoose(value)}
      />
      <Text dimColor>↑/↓ move · Enter choose · Esc cancel</Text>
    </Box>
  );
}
