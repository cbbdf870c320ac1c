import { useApp, useStdout } from 'ink';
import { useEffect, useLayoutEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { planValues } from '../runbook/plan.js';
import type { Session } from '../engine/session.js';
import { optionDisplay, OPTIONS, type OptionSpec, type StepOptions } from '../runbook/options.js';
import type { ReportModel, ReportPaths } from '../runbook/report/index.js';
import { type SectionId, sectionInfo, SECTIONS } from '../runbook/sections.js';
import type { RunbookStep } from '../steps/define.js';
import type { AppEnv, AppState, Prompt } from './app-state.js';
import { TuiController } from './controller.js';
import { useKeys } from './input.js';
import { keyLabel } from './key-table.js';
import { editorLine } from './line-editor.js';
import { Lines } from './Lines.js';
import { choiceLines, formLines, gateLines, quitLines, scheduleLines } from './prompts.js';
import { type SessionSnapshot, useSessionSnapshot } from './session-store.js';
import { line, type Line, rule, seg, SPINNER_FRAMES, truncateLine, wrapAll, wrapLine } from './text.js';
import { useTerminalSize } from './use-store.js';
import {
  detailLines,
  headerLines,
  helpLines,
  homeLines,
  reportLines,
  stepListLines,
  viewport,
} from './views.js';

export interface AppProps {
  session: Session;
  stepsOf(section: string): RunbookStep[];
  /** Called once when the operator quits; the caller closes the journal and tears down. */
  onQuit(outcome: 'quit' | 'interrupted'): void;
  /** Step options from the command line / environment (restore-uri, incident-time, …). */
  initialOptions?: StepOptions;
  /** The DR report of this session (r); absent, the key says there is none. */
  report?: { build(): ReportModel; export(): ReportPaths };
  /** A line for the checklist at start (e.g. an earlier session that cannot be resumed, and why). */
  startNotice?: string;
  /** Read "last proven restorable" from the bucket for the checklist (the CLI does; screen tests need not). */
  readProof?: boolean;
  /** Signals (SIGINT, SIGTERM) forwarded by the caller: treated as Ctrl-C. */
  signals?: {
    on(event: 'interrupt', listener: () => void): unknown;
    off(event: 'interrupt', listener: () => void): unknown;
  };
  /** Why there is no cluster (no kubeconfig): sections that need one say so at once, before asking anything. */
  clusterProblem?: string;
}

const MAX_NOTICE_LINES = 3;

export function App(props: AppProps) {
  const { session, report, signals, clusterProblem } = props;
  const { exit } = useApp();
  const { stdout } = useStdout();
  const { columns: width, rows } = useTerminalSize(stdout);
  const snapshot = useSessionSnapshot(session);
  const [controller] = useState(() => new TuiController(props));
  const state = useSyncExternalStore(controller.store.subscribe, controller.store.get, controller.store.get);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    controller.setExit(exit);
  }, [controller, exit]);

  useKeys(controller.key);

  useEffect(() => {
    if (props.readProof) controller.readProof();
  }, [controller, props.readProof]);

  useEffect(() => {
    if (!signals) return;
    signals.on('interrupt', controller.interrupt);
    return () => {
      signals.off('interrupt', controller.interrupt);
    };
  }, [signals, controller]);

  // The spinner turns only while a step runs.
  const running = state.running !== undefined;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setTick((n) => n + 1), 120);
    return () => clearInterval(timer);
  }, [running]);

  // The report is rebuilt from the journal when the session changed, not on every spinner tick.
  const reportOpen = state.view === 'report';
  const version = snapshot.version;
  const model = useMemo(
    () => (reportOpen && report ? report.build() : undefined),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [reportOpen, report, version],
  );
  const frame = drawFrame({
    state,
    controller,
    session,
    report: model,
    clusterProblem,
    width,
    rows,
    snapshot,
    tick,
  });
  // What the keys scroll: set once the frame is drawn, read when the next key comes.
  useLayoutEffect(() => {
    controller.setPane(frame.pane);
  });
  return <Lines lines={frame.lines} />;
}

interface FrameInput {
  state: AppState;
  controller: TuiController;
  session: Session;
  /** The report, built, when its screen is open. */
  report?: ReportModel;
  clusterProblem?: string;
  width: number;
  rows?: number;
  snapshot: SessionSnapshot;
  tick: number;
}

/** The whole frame as lines, fitted to the terminal, and the scrollable pane's size. Pure. */
export function drawFrame(input: FrameInput): { lines: Line[]; pane: { page: number; total: number } } {
  const { state, controller, session, report, clusterProblem, width, rows, snapshot, tick } = input;
  const env = controller.env;
  const steps = (section: SectionId) => controller.steps(section);
  let pane = { page: 1, total: 0 };
  const tall = rows === undefined || rows >= 40;
  const header = headerLines({ ...session.target, clusterProblem }, width, tall);

  if (state.exiting) {
    const summary = wrapAll(
      [
        line(state.exiting.code === 130 ? 'Interrupted' : 'Stopped', { bold: true, color: 'yellow' }),
        ...state.exiting.lines.map((text) => line(text)),
      ],
      width,
    );
    return { lines: [...header, ...summary], pane };
  }

  const section = state.section ? sectionInfo(state.section) : undefined;
  const sectionSteps = state.section ? steps(state.section) : [];
  const selected = sectionSteps[state.stepCursor];

  const footer = footerLines(state, width, section?.id, sectionSteps, env);
  const promptLines = state.quitAsk
    ? quitLines(
        controller.findStep(state.running?.current ?? '')?.title ?? 'a step',
        state.running?.current ? env.consequence(state.running.current) : 'nothing else runs',
        width,
      )
    : state.prompt
      ? promptView(state.prompt, width, rows)
      : [];
  // One row is left free: Ink redraws the whole screen when a frame fills the terminal.
  const budget = rows === undefined ? undefined : Math.max(3, rows - 1 - header.length - footer.length);
  const fittedPrompt = budget === undefined ? promptLines : fitPrompt(promptLines, Math.max(3, budget - 3));
  const bodyBudget = budget === undefined ? undefined : Math.max(1, budget - fittedPrompt.length);

  let body: Line[];
  if (state.help) {
    const all = helpLines(width, state.help.filter?.value ?? '');
    const height = bodyBudget === undefined ? undefined : Math.max(1, bodyBudget + fittedPrompt.length - 1);
    const shown = viewport(all, state.help.offset, false, height);
    pane = { page: height ?? all.length, total: all.length };
    const filterText = state.help.filter
      ? editorLine([seg(' / ')], state.help.filter, { focused: state.help.editing })
      : [];
    body = [
      truncateLine(
        [
          ...rule(`Keys ${shown.position ? `(${shown.position}) ` : ''}`, Math.max(10, width - 30), {
            color: 'cyan',
            bold: true,
          }),
          seg(' PgUp/PgDn · / filter · Esc close', { dim: true }),
          ...filterText,
        ],
        width,
      ),
      ...shown.lines,
    ];
    return { lines: [...header, ...body, ...footer], pane };
  }
  if (state.view === 'report' && report) {
    const all = filtered(reportLines(report, width), state.filter?.editor.value);
    const noteLines = state.note
      ? [editorLine([seg('Note: ')], state.note, { placeholder: 'what the facilitator observed' })]
      : [];
    const height = bodyBudget === undefined ? undefined : Math.max(1, bodyBudget - noteLines.length - 1);
    const shown = viewport(all, state.report.offset, state.report.follow, height);
    pane = { page: height ?? all.length, total: all.length };
    body = [...shown.lines, ...noteLines, ...positionLine(shown.position, state.filter, width)];
  } else if (section && state.view === 'section') {
    const rowsOf = sectionSteps.map((step) => ({
      id: step.id,
      title: step.title,
      skippable: step.skippable === true,
      status: session.status(step.id),
      summary: snapshot.views.get(step.id)?.summary,
    }));
    let list = stepListLines(section, rowsOf, state.stepCursor, width);
    if (bodyBudget !== undefined) {
      // The list gets up to 40% of the rows (at least the title and the cursor's row), windowed on the cursor.
      const room = Math.max(
        2,
        Math.min(list.length, fittedPrompt.length > 0 ? 2 : Math.floor(bodyBudget * 0.4)),
      );
      if (list.length > room) {
        const rowsRoom = room - 1;
        const start = Math.max(
          0,
          Math.min(state.stepCursor - Math.floor(rowsRoom / 2), rowsOf.length - rowsRoom),
        );
        list = [list[0]!, ...list.slice(1 + start, 1 + start + rowsRoom)];
      }
    }
    let detail: Line[] = [];
    if (selected) {
      const status = session.status(selected.id);
      const plan = safePlan(selected, session, state.options);
      const all = filtered(
        detailLines(
          {
            title: selected.title,
            description: selected.description,
            status,
            view: snapshot.views.get(selected.id),
            plan,
            mask: (text) => session.mask(text),
            spinner: SPINNER_FRAMES[tick % SPINNER_FRAMES.length] ?? '⠋',
            logTail: bodyBudget === undefined ? 12 : undefined,
          },
          width,
        ),
        state.filter?.editor.value,
      );
      const height = bodyBudget === undefined ? undefined : Math.max(0, bodyBudget - list.length - 2);
      const follow =
        state.detail.follow ||
        (state.running?.current === selected.id && state.detail.offset === 0 && state.running !== undefined);
      const shown =
        height === 0
          ? { lines: [], offset: 0, position: undefined }
          : viewport(all, state.detail.offset, follow, height);
      pane = { page: height ?? all.length, total: all.length };
      const focus = state.focus === 'detail' ? ' [detail: j/k scroll, Tab back]' : '';
      detail = [
        rule(`${selected.title}${focus}${shown.position ? ` (${shown.position})` : ''}`, width, {
          bold: true,
          color: state.focus === 'detail' ? 'cyan' : undefined,
        }),
        ...shown.lines,
        ...positionLine(undefined, state.filter, width),
      ];
      if (height === 0) detail = [];
    }
    body = [...list, ...detail];
  } else {
    const rowsOf = SECTIONS.map((info) => ({
      section: info,
      steps: steps(info.id).length,
      statuses: steps(info.id).map((step) => session.status(step.id)),
    }));
    body = homeLines(rowsOf, state.homeCursor, width, state.proof);
    pane = { page: body.length, total: body.length };
  }
  if (bodyBudget !== undefined && body.length > bodyBudget) body = body.slice(0, bodyBudget);
  return { lines: [...header, ...body, ...fittedPrompt, ...footer], pane };
}

function filtered(lines: Line[], filter: string | undefined): Line[] {
  if (!filter) return lines;
  const wanted = filter.toLowerCase();
  return lines.filter((value) =>
    value
      .map((part) => part.text)
      .join('')
      .toLowerCase()
      .includes(wanted),
  );
}

function positionLine(position: string | undefined, filter: AppState['filter'], width: number): Line[] {
  const parts = [
    ...(filter ? [seg('/ '), ...editorLine([], filter.editor, { focused: filter.editing })] : []),
    ...(position ? [seg(`${filter ? '  ' : ''}lines ${position}`, { dim: true })] : []),
  ];
  return parts.length ? [truncateLine(parts, width)] : [];
}

function safePlan(step: RunbookStep, session: Session, options: StepOptions) {
  try {
    return step.plan(planValues(session.values, step), { ...options, namespace: session.target.namespace });
  } catch {
    return { actions: [{ summary: `(set ${step.inputs.join(', ')} to see the exact commands)` }] };
  }
}

function promptView(prompt: Prompt, width: number, rows: number | undefined): Line[] {
  switch (prompt.kind) {
    case 'gate':
      return gateLines(prompt.state, width);
    case 'form':
      return formLines(prompt.state, width);
    case 'choice':
      return choiceLines(
        prompt.state,
        width,
        rows === undefined ? undefined : Math.max(6, Math.floor(rows * 0.6)),
      );
    case 'schedules':
      return scheduleLines(prompt.state, width, new Date());
  }
}

/** A prompt taller than its room keeps its head and its last lines (the input), and says what it left out. */
function fitPrompt(lines: Line[], room: number): Line[] {
  if (lines.length <= room) return lines;
  const tail = Math.max(2, Math.min(4, room - 2));
  const head = Math.max(1, room - tail - 1);
  return [
    ...lines.slice(0, head),
    line(`… ${lines.length - head - tail} more line(s): widen or heighten the terminal to see them`, {
      dim: true,
    }),
    ...lines.slice(lines.length - tail),
  ];
}

function footerLines(
  state: AppState,
  width: number,
  section: SectionId | undefined,
  sectionSteps: readonly RunbookStep[],
  env: AppEnv,
): Line[] {
  // The keys a person needs first come first: a narrow terminal cuts the end of this line.
  const hints: string[] = [];
  if (state.running) {
    const current = sectionSteps.find((step) => step.id === state.running?.current)?.title ?? 'a step';
    hints.push(
      'Esc stop waiting',
      'q quit (asks)',
      'Ctrl-C interrupt',
      '? help',
      'PgUp/PgDn scroll',
      `running: ${current}`,
    );
  } else if (state.view === 'report') {
    hints.push('Esc back', '? help', 'q quit', 'n note', 'x export', 'j/k PgUp/PgDn g/G scroll', '/ filter');
  } else if (state.view === 'section' && section) {
    hints.push(`${keyLabel('open')} run step`, 'a run remaining', 'Esc back', '? help', 'q quit');
    for (const option of OPTIONS as readonly OptionSpec[])
      if (option.tui?.sections.includes(section))
        hints.push(
          `${option.tui.key} ${option.tui.label}: ${optionDisplay(state.options, option.name as never)}`,
        );
    if (section === 'deploy') hints.push('e edit schedules');
    hints.push('s skip optional', 'Tab detail', '/ filter', 'r report');
  } else {
    hints.push('↑/↓ move', 'Enter open', 'r report', '? help', 'q quit');
  }
  const out: Line[] = [];
  if (state.notice) {
    const color = { info: undefined, ok: 'green', warn: 'yellow', error: 'red' }[state.notice.tone];
    out.push(...wrapLine(line(state.notice.text, { color }), width, 0).slice(0, MAX_NOTICE_LINES));
  }
  void env;
  out.push(truncateLine(line(hints.join(' · '), { dim: true }), width));
  return out;
}
