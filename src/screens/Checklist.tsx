import { Box, Text } from 'ink';
import type { Session } from '../engine/session.js';
import { SECTIONS } from '../runbook/sections.js';
import type { RunbookStep } from '../steps/define.js';

interface Props {
  session: Session;
  stepsOf(section: string): RunbookStep[];
  cursor: number;
}

function sectionStatus(session: Session, steps: RunbookStep[]): { text: string; color?: string } {
  if (steps.length === 0) return { text: 'not available yet', color: 'gray' };
  const states = steps.map((step) => session.status(step.id));
  const done = states.filter((s) => s === 'done' || s === 'skipped').length;
  if (states.some((s) => s === 'failed'))
    return { text: `✗ ${done}/${steps.length} done, failures`, color: 'red' };
  if (states.some((s) => s === 'running' || s === 'verifying')) return { text: `◐ running`, color: 'cyan' };
  if (done === steps.length) return { text: `✓ ${done}/${steps.length} done`, color: 'green' };
  return { text: `${done}/${steps.length} done` };
}

/** Home: every runbook section with its status. */
export function Checklist({ session, stepsOf, cursor }: Props) {
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>Runbook sections</Text>
      {SECTIONS.map((section, index) => {
        const steps = stepsOf(section.id);
        const status = sectionStatus(session, steps);
        const selected = index === cursor;
        return (
          <Box key={section.id} gap={1}>
            <Text color={selected ? 'cyan' : undefined}>{selected ? '›' : ' '}</Text>
            <Box width={30}>
              <Text bold={selected} dimColor={steps.length === 0}>
                {section.title}
              </Text>
            </Box>
            <Text color={status.color}>{status.text}</Text>
          </Box>
        );
      })}
      <Box marginTop={1}>
        <Text dimColor>{SECTIONS[cursor]?.summary}</Text>
      </Box>
      <Text dimColor>↑/↓ move · Enter open · r report · ? help · q quit</Text>
    </Box>
  );
}
