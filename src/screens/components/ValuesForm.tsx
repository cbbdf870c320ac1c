import { useRef } from 'react';
import { formLines, formState, reduceForm, type FormState } from '../prompts.js';
import { usePromptHost } from './prompt-host.js';

interface Props {
  names: readonly string[];
  onSubmit(values: Record<string, string>): void;
  onCancel(): void;
}

/** Asks for missing values one at a time; validates each as it is submitted; secrets are masked. */
export function ValuesForm({ names, onSubmit, onCancel }: Props) {
  const done = useRef(false);
  return usePromptHost<FormState>(
    () => formState(names),
    (state, pressed) => {
      if (done.current) return state;
      const step = reduceForm(state, pressed);
      if (step.done === null) {
        done.current = true;
        onCancel();
      } else if (step.done) {
        done.current = true;
        onSubmit(step.done);
      }
      return step.state;
    },
    formLines,
  );
}
