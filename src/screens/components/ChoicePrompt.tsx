import { useRef } from 'react';
import type { Choice } from '../../runbook/step.js';
import { choiceLines, choiceState, reduceChoice, type ChoiceState } from '../prompts.js';
import { usePromptHost } from './prompt-host.js';

interface Props {
  prompt: string;
  choices: readonly Choice[];
  fallback?: string;
  onChoose(value: string | undefined): void;
}

/** A list to pick from (the resume offer at start). The suggested choice comes first; Esc cancels. */
export function ChoicePrompt({ prompt, choices, fallback, onChoose }: Props) {
  const done = useRef(false);
  return usePromptHost<ChoiceState>(
    () => choiceState(prompt, choices, fallback),
    (state, pressed) => {
      if (done.current) return state;
      const step = reduceChoice(state, pressed);
      if (step.done !== undefined) {
        done.current = true;
        onChoose(step.done ?? undefined);
      }
      return step.state;
    },
    (state, width) => choiceLines(state, width),
  );
}
