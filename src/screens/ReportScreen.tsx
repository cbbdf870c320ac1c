import { TextInput } from '@inkjs/ui';
import { Box, Text, useInput } from 'ink';
import { useMemo, useState } from 'react';
import type { RecoveryMetric } from '../runbook/metrics.js';
import { outcomeText, type ReportModel, type ReportPaths } from '../runbook/report/index.js';

interface Props {
  build(): ReportModel;
  exportReport(): ReportPaths;
  addNote(text: string): void;
  onBack(): void;
}

function MetricLine({ metric }: { metric: RecoveryMetric }) {
  const color = metric.verdict === 'PASS' ? 'green' : metric.verdict === 'FAIL' ? 'red' : 'yellow';
  return (
    <Text>
      {metric.name} {metric.verdict === 'recording error' ? '' : 'achieved '}
      <Text bold>{metric.achieved}</Text> · target {metric.target ?? 'not set'} ·{' '}
      <Text color={color} bold>
        {metric.verdict}
      </Text>
      {metric.reason ? <Text dimColor> ({metric.reason})</Text> : null}
    </Text>
  );
}

/** The DR report of this session: recovery metrics, deviations, facilitator notes, export. */
export function ReportScreen({ build, exportReport, addNote, onBack }: Props) {
  const [version, setVersion] = useState(0);
  const [writing, setWriting] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  // Rebuilt from the journal whenever a note is added or the report is exported.
  const model = useMemo(() => build(), [build, version]); // eslint-disable-line react-hooks/exhaustive-deps
  useInput(
    (input, key) => {
      if (key.escape) onBack();
      else if (input === 'n') setWriting(true);
      else if (input === 'x') {
        const paths = exportReport();
        setMessage(`written: ${paths.markdown}, ${paths.html} and ${paths.json}`);
        setVersion(version + 1);
      }
    },
    { isActive: !writing },
  );
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text bold>
        DR report — {model.scenario.label} <Text dimColor>({model.scenario.basis})</Text>
      </Text>
      <Text dimColor>
        session {model.session.id} · operators {model.operators.join(', ') || 'unknown'} · next drill{' '}
        {model.nextDrill.date}
      </Text>
      <Text>
        Result{' '}
        <Text
          bold
          color={
            model.result.verdict === 'PASS' ? 'green' : model.result.verdict === 'FAIL' ? 'red' : 'yellow'
          }
        >
          {model.result.verdict}
        </Text>
        {model.session.outcome === 'in-progress' ? <Text dimColor> · {outcomeText(model)}</Text> : null}
      </Text>
      <Box flexDirection="column" marginTop={1}>
        {model.recoveries.length === 0 ? (
          <Text dimColor>No database restored yet: RPO/RTO unknown until a restore is validated.</Text>
        ) : null}
        {model.recoveries.map((recovery) => (
          <Box key={recovery.id} flexDirection="column">
            <Text underline>{recovery.label}</Text>
            <MetricLine metric={recovery.rpo} />
            <MetricLine metric={recovery.rto} />
          </Box>
        ))}
      </Box>
      <Box flexDirection="column" marginTop={1}>
        <Text underline>Deviations ({model.deviations.length})</Text>
        {model.deviations.slice(-8).map((deviation, index) => (
          <Text key={index} color={deviation.severity === 'high' ? 'red' : undefined}>
            • {deviation.kind}: {deviation.detail}
          </Text>
        ))}
      </Box>
      <Box flexDirection="column" marginTop={1}>
        <Text underline>Notes ({model.notes.length})</Text>
        {model.notes.map((note, index) => (
          <Text key={index}>• {note.text}</Text>
        ))}
      </Box>
      <Text dimColor>
        {model.digest.length} timeline rows ({model.timeline.length} journal events)
      </Text>
      {writing ? (
        <Box gap={1}>
          <Text>Note:</Text>
          <TextInput
            placeholder="what the facilitator observed"
            onSubmit={(text) => {
              if (text.trim() !== '') addNote(text.trim());
              setWriting(false);
              setVersion(version + 1);
            }}
          />
        </Box>
      ) : null}
      {message ? <Text color="green">{message}</Text> : null}
      <Text dimColor>n add a note · x export Markdown + HTML + JSON · Esc back</Text>
    </Box>
  );
}
