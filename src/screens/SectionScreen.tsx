import { Box, Text } from 'ink';
import { StepIcon } from '../components/StatusIcon.js';
import type { Session } from '../engine/session.js';
import type { SectionInfo } from '../runbook/sections.js';
import type { RunbookStep } from '../steps/define.js';
import { StepDetail } from './StepDetail.js';
import type { StepView } from './use-session.js';

interface Props {
  session: Session;
  section: SectionInfo;
  steps: RunbookStep[];
  cursor: number;
  views: Map<string, StepView>;
  options: Record<string, boolean | string>;
}

/** A section: its steps with status on the left, the selected step's detail below. */
export function SectionScreen({ session, section, steps, cursor, views, options }: Props) {
  const selected = steps[cursor];
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>
        {section.title} <Text dimColor>— runbook: {section.runbookHeading}</Text>
      </Text>
      {steps.map((step, index) => (
        <Box key={step.id} gap={1}>
          <Text color={index === cursor ? 'cyan' : undefined}>{index === cursor ? '›' : ' '}</Text>
          <StepIcon status={session.status(step.id)} />
          <Text bold={index === cursor}>{step.title}</Text>
          {step.skippable ? <Text dimColor>(optional)</Text> : null}
          <Text dimColor>{views.get(step.id)?.summary ?? ''}</Text>
        </Box>
      ))}
      {selected ? (
        <StepDetail session={session} step={selected} view={views.get(selected.id)} options={options} />
      ) : null}
      <Text dimColor>
        Enter run step · a run all ·{' '}
        {section.id === 'prerequisites' ? `w write canary: ${options['write-canary'] ? 'ON' : 'off'} · ` : ''}
        {section.id === 'deploy' ? 'e edit schedules · ' : ''}s skip optional · Esc back · ? help · q quit
      </Text>
    </Box>
  );
}
