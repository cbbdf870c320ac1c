import { PasswordInput, TextInput } from '@inkjs/ui';
import { Box, Text, useInput } from 'ink';
import { useState } from 'react';
import { validateValue, valueSpec } from '../runbook/values.js';

interface Props {
  names: readonly string[];
  onSubmit(values: Record<string, string>): void;
  onCancel(): void;
}

/** Asks for missing values one at a time; validates each as it is submitted; secrets are masked. */
export function ValuesForm({ names, onSubmit, onCancel }: Props) {
  const [index, setIndex] = useState(0);
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | undefined>();
  useInput((_input, key) => {
    if (key.escape) onCancel();
  });
  const name = names[index];
  if (!name) return null;
  const spec = valueSpec(name);
  const submit = (value: string) => {
    const problem = validateValue(name, value);
    if (problem) {
      setError(`${name} ${problem}`);
      return;
    }
    setError(undefined);
    const next = { ...answers, [name]: value };
    setAnswers(next);
    if (index + 1 >= names.length) onSubmit(next);
    else setIndex(index + 1);
  };
  return (
    <Box flexDirection="column" borderStyle="single" paddingX={1}>
      <Text bold>
        Values needed ({index + 1}/{names.length})
      </Text>
      {spec.help ? <Text dimColor>{spec.help}</Text> : null}
      <Box gap={1}>
        <Text>
          {spec.label} <Text dimColor>({name})</Text>:
        </Text>
        {spec.secret ? (
          <PasswordInput key={name} placeholder="(hidden)" onSubmit={submit} />
        ) : (
          <TextInput
            key={name}
            placeholder={spec.example ?? spec.default ?? ''}
            defaultValue={spec.default}
            onSubmit={submit}
          />
        )}
      </Box>
      {error ? <Text color="red">✗ {error}</Text> : <Text dimColor>Enter to accept · Esc to cancel</Text>}
    </Box>
  );
}
