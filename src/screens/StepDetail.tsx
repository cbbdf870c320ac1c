import { ProgressBar, Spinner } from '@inkjs/ui';
import { Box, Text } from 'ink';
import { CheckIcon } from '../components/StatusIcon.js';
import type { Session } from '../engine/session.js';
import type { RunbookStep } from '../steps/define.js';
import type { StepView } from './use-session.js';

interface Props {
  session: Session;
  step: RunbookStep;
  view: StepView | undefined;
  options: Record<string, boolean | string>;
}

const LOG_TAIL = 12;

function formatProgress(view: StepView): string {
  const p = view.progress;
  if (!p) return '';
  if (p.total && p.done !== undefined) {
    const unit = p.unit === 'bytes' ? ' MB' : '';
    const scale = p.unit === 'bytes' ? 1 / (1024 * 1024) : 1;
    return `${(p.done * scale).toFixed(p.unit === 'bytes' ? 1 : 0)}/${(p.total * scale).toFixed(p.unit === 'bytes' ? 1 : 0)}${unit}`;
  }
  return p.message ?? '';
}

/** One step: what it will do (commands), its live state, checks with reason and next step, result. */
export function StepDetail({ session, step, view, options }: Props) {
  const status = session.status(step.id);
  const plan = step.plan(session.values, { ...options, namespace: session.target.namespace });
  const running = status === 'running' || status === 'verifying';
  return (
    <Box flexDirection="column" borderStyle="single" paddingX={1}>
      <Text bold>{step.title}</Text>
      <Text dimColor>{step.description}</Text>
      {status === 'pending' || status === 'ready' ? (
        <Box flexDirection="column" marginTop={1}>
          <Text underline>Will do</Text>
          {plan.actions.map((action, index) => (
            <Box key={index} flexDirection="column">
              <Text>
                • {action.summary}
                {action.destructive ? (
                  <Text color="red"> [destructive]</Text>
                ) : action.writes ? (
                  <Text color="yellow"> [writes]</Text>
                ) : null}
              </Text>
              {action.command ? <Text dimColor> $ {session.mask(action.command)}</Text> : null}
            </Box>
          ))}
          {(plan.notes ?? []).map((note) => (
            <Text key={note} dimColor>
              note: {note}
            </Text>
          ))}
        </Box>
      ) : null}
      {view && view.preview.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          {view.preview.map((line, index) => (
            <Text key={index}>· {line}</Text>
          ))}
        </Box>
      ) : null}
      {running ? (
        <Box marginTop={1} gap={1}>
          <Spinner label={view?.progress?.message ?? 'running…'} />
          {view?.progress?.total ? (
            <Box width={30}>
              <ProgressBar value={Math.min(100, ((view.progress.done ?? 0) / view.progress.total) * 100)} />
            </Box>
          ) : null}
          {view ? <Text dimColor>{formatProgress(view)}</Text> : null}
        </Box>
      ) : null}
      {view && view.logs.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          {view.logs.slice(-LOG_TAIL).map((line, index) => (
            <Text key={index} dimColor>
              │ {line}
            </Text>
          ))}
        </Box>
      ) : null}
      {view && view.checks.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          {view.checks.map((check) => (
            <Box key={check.id} flexDirection="column">
              <Box gap={1}>
                <CheckIcon status={check.status} />
                <Text>{check.label}</Text>
                {check.detail ? <Text dimColor>{check.detail}</Text> : null}
              </Box>
              {check.next && check.status !== 'ok' ? <Text color="yellow"> → {check.next}</Text> : null}
            </Box>
          ))}
        </Box>
      ) : null}
      {view?.summary && !running ? (
        <Box marginTop={1} flexDirection="column">
          <Text color={status === 'failed' ? 'red' : status === 'done' ? 'green' : undefined} bold>
            {status === 'failed' ? 'FAILED: ' : status === 'done' ? 'Done: ' : ''}
            {view.summary}
          </Text>
          {view.next ? <Text color="yellow">→ {view.next}</Text> : null}
        </Box>
      ) : null}
    </Box>
  );
}
