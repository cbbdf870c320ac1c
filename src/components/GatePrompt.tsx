import { TextInput } from '@inkjs/ui';
import { Box, Text, useInput } from 'ink';
import { useState } from 'react';
import type { Gate } from '../runbook/step.js';

interface Props {
  gate: Gate;
  onAnswer(accepted: boolean): void;
  /** A typed gate got the wrong phrase (the journal records that it happened, never the text). */
  onWrongPhrase?(typed: string): void;
}

/** A confirmation gate that names its target. Typed gates accept only the exact phrase. */
export function GatePrompt({ gate, onAnswer, onWrongPhrase }: Props) {
  const [error, setError] = useState<string | undefined>();
  const [attempt, setAttempt] = useState(0);
  useInput((input, key) => {
    if (key.escape) onAnswer(false);
    else if (gate.kind === 'confirm' && (input === 'y' || input === 'Y')) onAnswer(true);
    else if (gate.kind === 'confirm' && (input === 'n' || input === 'N')) onAnswer(false);
  });
  return (
    <Box flexDirection="column" borderStyle="double" borderColor="yellow" paddingX={1}>
      <Text bold color="yellow">
        {gate.prompt}
      </Text>
      {Object.entries(gate.target ?? {}).map(([label, value]) => (
        <Text key={label}>
          {label}: <Text bold>{value}</Text>
        </Text>
      ))}
      {gate.kind === 'confirm' ? (
        <Text>Proceed? y / n (Esc cancels)</Text>
      ) : (
        <Box flexDirection="column">
          <Box gap={1}>
            <Text>
              Type <Text bold>{gate.phrase}</Text> to confirm:
            </Text>
            <TextInput
              key={attempt}
              onSubmit={(value) => {
                if (value === gate.phrase) onAnswer(true);
                else {
                  onWrongPhrase?.(value);
                  setError(
                    `"${value}" is not "${gate.phrase}": nothing was done. Type it exactly, or Esc to cancel.`,
                  );
                  setAttempt(attempt + 1);
                }
              }}
            />
          </Box>
          {error ? <Text color="red">✗ {error}</Text> : null}
        </Box>
      )}
    </Box>
  );
}
