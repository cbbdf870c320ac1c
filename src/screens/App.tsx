import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useRef, useState } from 'react';
import { ChoicePrompt } from '../components/ChoicePrompt.js';
import { ScheduleEditor, scheduleFields } from '../components/configure/ScheduleEditor.js';
import { GatePrompt } from '../components/GatePrompt.js';
import { Header } from '../components/Header.js';
import { ValuesForm } from '../components/ValuesForm.js';
import { DETACH, type GateAttempts, type GateDecision, type Session } from '../engine/session.js';
import { SECTIONS } from '../runbook/sections.js';
import type { Choice, Gate } from '../runbook/step.js';
import type { RunbookStep } from '../steps/define.js';
import type { ReportModel, ReportPaths } from '../runbook/report/index.js';
import { Checklist } from './Checklist.js';
import { ReportScreen } from './ReportScreen.js';
import { HelpOverlay } from './HelpOverlay.js';
import { isBack, isDown, isHelp, isQuit, isUp } from './keys.js';
import { SectionScreen } from './SectionScreen.js';
import { useSessionView } from './use-session.js';

export interface AppProps {
  session: Session;
  stepsOf(section: string): RunbookStep[];
  /** Called once when the operator quits; the caller closes the journal and tears down. */
  onQuit(outcome: 'quit' | 'interrupted'): void;
  /** Step options from the command line / environment (restore-uri, incident-time, …). */
  initialOptions?: Record<string, boolean | string>;
  /** The DR report of this session (r on the checklist); absent, the key does nothing. */
  report?: { build(): ReportModel; export(): ReportPaths };
}

type Interaction =
  | { kind: 'form'; names: string[]; resolve(values: Record<string, string> | undefined): void }
  | { kind: 'gate'; gate: Gate; resolve(accepted: boolean): void; wrongPhrase(typed: string): void }
  | { kind: 'schedules' }
  | {
      kind: 'choice';
      prompt: string;
      choices: readonly Choice[];
      fallback?: string;
      resolve(value: string | undefined): void;
    };

export function App({ session, stepsOf, onQuit, report, initialOptions }: AppProps) {
  const { exit } = useApp();
  const [sectionIndex, setSectionIndex] = useState<number | undefined>();
  const [homeCursor, setHomeCursor] = useState(0);
  const [stepCursor, setStepCursor] = useState(0);
  const [help, setHelp] = useState(false);
  const [interaction, setInteraction] = useState<Interaction | undefined>();
  const [running, setRunning] = useState(false);
  const [options, setOptions] = useState<Record<string, boolean | string>>({
    'write-canary': false,
    ...initialOptions,
  });
  const [notice, setNotice] = useState<string | undefined>();
  const [showReport, setShowReport] = useState(false);
  const abort = useRef<AbortController | undefined>(undefined);
  const { views } = useSessionView(session);

  const section = sectionIndex === undefined ? undefined : SECTIONS[sectionIndex];
  const steps = section ? stepsOf(section.id) : [];

  const quit = useCallback(() => {
    const wasRunning = abort.current !== undefined;
    abort.current?.abort('SIGINT');
    onQuit(wasRunning ? 'interrupted' : 'quit');
    exit();
  }, [exit, onQuit]);

  const ask = (names: string[]) =>
    new Promise<Record<string, string> | undefined>((resolve) =>
      setInteraction({ kind: 'form', names, resolve }),
    );
  const confirm = (gate: Gate, attempts: GateAttempts) =>
    new Promise<GateDecision>((resolve) =>
      setInteraction({
        kind: 'gate',
        gate,
        resolve: (accepted) => resolve({ answer: accepted ? 'accepted' : 'refused', via: 'operator' }),
        wrongPhrase: (typed) => attempts.wrongPhrase(typed),
      }),
    );

  const runSteps = async (toRun: RunbookStep[]) => {
    setRunning(true);
    setNotice(undefined);
    const controller = new AbortController();
    abort.current = controller;
    try {
      for (const step of toRun) {
        if (controller.signal.aborted) break;
        if (step.database && !session.values.inScope(step.database)) {
          session.skip(step, `${step.database} is out of scope`);
          continue;
        }
        // The detail pane follows the step that runs (its progress bar, its gate).
        setStepCursor(Math.max(0, steps.indexOf(step)));
        const missing = session.missing(step);
        if (missing.length > 0) {
          const answers = await ask(missing);
          setInteraction(undefined);
          if (!answers) {
            setNotice(`${step.title}: not run (values not given)`);
            break;
          }
          for (const [name, value] of Object.entries(answers)) session.setValue(name, value);
        }
        const outcome = await session.run(step, {
          confirm: async (gate, _step, attempts) => {
            const answer = await confirm(gate, attempts);
            setInteraction(undefined);
            return answer;
          },
          choose: async (prompt, choices, fallback) => {
            const value = await new Promise<string | undefined>((resolve) =>
              setInteraction({ kind: 'choice', prompt, choices, fallback, resolve }),
            );
            setInteraction(undefined);
            return value;
          },
          options,
          signal: controller.signal,
        });
        if (outcome.error && outcome.status !== 'failed')
          setNotice(`${outcome.error.message}${outcome.error.next ? ` → ${outcome.error.next}` : ''}`);
        if (outcome.status !== 'done' && !(outcome.status === 'failed' && step.continueOnFailure)) break;
      }
    } finally {
      abort.current = undefined;
      setRunning(false);
    }
  };

  useInput(
    (input, key) => {
      if (isQuit(input, key)) return quit();
      if (help) {
        if (isHelp(input) || isBack(input, key)) setHelp(false);
        return;
      }
      if (showReport) return;
      if (isHelp(input)) return setHelp(true);
      if (running) {
        // Esc while a step runs: stop waiting for it (a Job keeps running in the cluster).
        if (isBack(input, key)) abort.current?.abort(DETACH);
        return;
      }
      if (!section) {
        if (isUp(input, key)) setHomeCursor(Math.max(0, homeCursor - 1));
        else if (isDown(input, key)) setHomeCursor(Math.min(SECTIONS.length - 1, homeCursor + 1));
        else if (input === 'r' && report) setShowReport(true);
        else if (key.return) {
          const chosen = SECTIONS[homeCursor];
          if (chosen && stepsOf(chosen.id).length === 0) setNotice(`${chosen.title} is not available yet.`);
          else {
            setNotice(undefined);
            setSectionIndex(homeCursor);
            setStepCursor(0);
          }
        }
        return;
      }
      if (isBack(input, key)) {
        setSectionIndex(undefined);
        setNotice(undefined);
      } else if (isUp(input, key)) setStepCursor(Math.max(0, stepCursor - 1));
      else if (isDown(input, key)) setStepCursor(Math.min(steps.length - 1, stepCursor + 1));
      else if (key.return && steps[stepCursor]) void runSteps([steps[stepCursor]]);
      else if (input === 'a') void runSteps(steps);
      else if (input === 'e' && section.id === 'deploy') setInteraction({ kind: 'schedules' });
      else if (input === 'w' && section.id === 'prerequisites')
        setOptions({ ...options, 'write-canary': !options['write-canary'] });
      else if (input === 's') {
        const step = steps[stepCursor];
        if (step?.skippable) session.skip(step, 'skipped by the operator');
        else if (step) setNotice(`${step.title} is not optional: it cannot be skipped.`);
      }
    },
    { isActive: interaction === undefined },
  );

  return (
    <Box flexDirection="column">
      <Header target={session.target} />
      {help ? <HelpOverlay /> : null}
      {showReport && report ? (
        <ReportScreen
          build={report.build}
          exportReport={report.export}
          addNote={(text) => session.record({ type: 'note', text })}
          onBack={() => setShowReport(false)}
        />
      ) : section ? (
        <SectionScreen
          session={session}
          section={section}
          steps={steps}
          cursor={stepCursor}
          views={views}
          options={options}
        />
      ) : (
        <Checklist session={session} stepsOf={stepsOf} cursor={homeCursor} />
      )}
      {interaction?.kind === 'form' ? (
        <ValuesForm
          names={interaction.names}
          onSubmit={(values) => interaction.resolve(values)}
          onCancel={() => interaction.resolve(undefined)}
        />
      ) : null}
      {interaction?.kind === 'gate' ? (
        <GatePrompt
          gate={interaction.gate}
          onAnswer={(accepted) => interaction.resolve(accepted)}
          onWrongPhrase={(typed) => interaction.wrongPhrase(typed)}
        />
      ) : null}
      {interaction?.kind === 'schedules' ? (
        <ScheduleEditor
          fields={scheduleFields(session.values)}
          onSubmit={(values) => {
            for (const [name, value] of Object.entries(values)) session.setValue(name, value);
            setInteraction(undefined);
          }}
          onCancel={() => setInteraction(undefined)}
        />
      ) : null}
      {interaction?.kind === 'choice' ? (
        <ChoicePrompt
          prompt={interaction.prompt}
          choices={interaction.choices}
          fallback={interaction.fallback}
          onChoose={(value) => interaction.resolve(value)}
        />
      ) : null}
      {notice ? <Text color="yellow">{notice}</Text> : null}
    </Box>
  );
}
