import { formLines, formState, reduceForm } from '../prompts.js';
import { useAnsweredPrompt } from './prompt-host.js';

interface Props {
  names: readonly string[];
  onSubmit(values: Record<string, string>): void;
  onCancel(): void;
}

/** Asks for missing values one at a time; validates each as it is submitted; secrets are masked. */
export function ValuesForm({ names, onSubmit, onCancel }: Props) {
  return useAnsweredPrompt(() => formState(names), reduceForm, formLines, { onSubmit, onCancel });
}
