import { Text } from 'ink';
import type { CheckStatus, StepStatus } from '../runbook/journal.js';

const STEP: Record<StepStatus, { icon: string; color?: string }> = {
  pending: { icon: '○' },
  ready: { icon: '○' },
  'awaiting-confirmation': { icon: '?', color: 'yellow' },
  running: { icon: '◐', color: 'cyan' },
  verifying: { icon: '◑', color: 'cyan' },
  done: { icon: '✓', color: 'green' },
  failed: { icon: '✗', color: 'red' },
  skipped: { icon: '-', color: 'gray' },
};

const CHECK: Record<CheckStatus, { icon: string; color: string }> = {
  ok: { icon: '✓', color: 'green' },
  fail: { icon: '✗', color: 'red' },
  warn: { icon: '!', color: 'yellow' },
  skip: { icon: '-', color: 'gray' },
};

export function StepIcon({ status }: { status: StepStatus }) {
  const { icon, color } = STEP[status];
  return <Text color={color}>{icon}</Text>;
}

export function CheckIcon({ status }: { status: CheckStatus }) {
  const { icon, color } = CHECK[status];
  return <Text color={color}>{icon}</Text>;
}
