#!/usr/bin/env node
import { printError, printProblem } from './commands/print-error.js';
import { Command, CommanderError, Option } from 'commander';
import type { GlobalOptions } from './commands/context.js';
import { flagText, optionsFor, type OptionCommand } from './runbook/options.js';
import { TOOL_VERSION } from './version.js';

/**
 * Composition root. Only commander loads eagerly: each command imports what it needs, so the TUI's
 * first frame does not wait for the Kubernetes or AWS clients.
 */
function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

/** commander: a repeatable option's values, in order (`--confirm`, `--role-map`). */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The step options of a command, from the one options table (runbook/options.ts). */
function addStepOptions(command: Command, which: OptionCommand): Command {
  for (const option of optionsFor(which)) {
    const added = new Option(flagText(option), option.description);
    if (option.kind === 'choice') added.choices([...option.choices]);
    if (option.kind === 'list') added.argParser(collect);
    command.addOption(added);
  }
  return command;
}

function fail(message: string, next?: string, exitCode = 2): never {
  printProblem({ message, next });
  process.exit(exitCode);
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('db-runbook')
    .description(
      'Database backup & restore runbook as an audited checklist: PostgreSQL and Neo4j, Kubernetes CronJobs, S3.',
    )
    .version(TOOL_VERSION, '-V, --version')
    .option(
      '--sandbox',
      'run against a local sandbox (S3, PostgreSQL, Neo4j and a real Kubernetes control plane on 127.0.0.1)',
    )
    .option('-n, --namespace <name>', 'Kubernetes namespace', 'data')
    .option('--context <name>', 'kubeconfig context')
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config)')
    .option(
      '--values <file>',
      'YAML file of non-secret values (S3_BUCKET: …); secrets only from the environment',
    )
    .option(
      '--session-dir <dir>',
      'where session journals are kept (default: $XDG_STATE_HOME/db-runbook/sessions)',
    )
    .option('--operator <name>', 'who runs this session (default: the OS user)')
    .option('--json', 'machine-readable events on stdout, one JSON object per line')
    .option('--no-color', 'no colours')
    .showHelpAfterError('(db-runbook --help lists commands and options)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .addHelpText(
      'after',
      `
Sections: prerequisites, configure, deploy, test-postgres, test-neo4j, restore-postgres, restore-neo4j, dr-validation, troubleshoot
Exit codes: 0 done, 1 a step failed, 2 usage or bad input, 3 a gate was refused, 130 interrupted.
Examples:
  db-runbook --sandbox                         the TUI against a local sandbox
  db-runbook plan prerequisites                what would be checked, with the equivalent commands
  db-runbook run prerequisites --yes           run it without the TUI (exit 0/1)
  db-runbook run restore-postgres --yes --confirm app --confirm "drop app"   each typed gate's phrase`,
    );

  let code = 0;
  program.action(async (_options, command: Command) => {
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      fail(
        'the interactive checklist needs a terminal (TTY)',
        'Use `db-runbook plan SECTION` to see the steps or `db-runbook run SECTION --yes` to run them without one.',
      );
    }
    // Ink renders only a final frame when it thinks it runs in CI (CI=…, CI_*); with a TTY we want the live UI.
    for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) if (key in process.env) process.env[key] = '0';
    const { tuiCommand } = await import('./commands/tui.js');
    code = await tuiCommand(globalOptions(command));
  });

  addStepOptions(
    program
      .command('plan')
      .description('show what would be done and the equivalent kubectl/aws/psql commands; changes nothing')
      .argument('[targets...]', 'sections or step ids (default: all)')
      .addOption(
        new Option('--format <format>', 'output format').choices(['text', 'markdown']).default('text'),
      ),
    'plan',
  ).action(async (targets: string[], _options, command: Command) => {
    const { planCommand } = await import('./commands/plan.js');
    code = await planCommand(targets, {
      ...globalOptions(command),
      ...command.opts(),
      format: command.opts().format as 'text' | 'markdown',
    });
  });

  addStepOptions(
    program
      .command('run')
      .description('run sections or steps without the TUI; gates need --yes, typed gates also --confirm TEXT')
      .argument('<targets...>', 'sections or step ids')
      .option('-y, --yes', 'accept confirmation gates')
      .option(
        '--confirm <text>',
        'the exact text a typed gate asks for; once per typed gate (e.g. --confirm app --confirm "drop app")',
        collect,
      ),
    'run',
  ).action(async (targets: string[], _options, command: Command) => {
    const { runCommand } = await import('./commands/run.js');
    code = await runCommand(targets, { ...globalOptions(command), ...command.opts() });
  });

  program
    .command('report')
    .description('the DR report of a session (default: the newest): timeline, RTO/RPO, deviations')
    .argument('[session]', 'session id or a unique prefix')
    .addOption(
      new Option('--format <format>', 'report format')
        .choices(['markdown', 'html', 'json'])
        .default('markdown'),
    )
    .option('--output <file>', 'write the report here (mode 0600) instead of stdout')
    .option(
      '--export',
      'write <session>-dr-report.md, .html and .json (mode 0600) beside the journal, as x in the TUI does',
    )
    .option('--notes <text>', "the facilitator's notes, added to the report")
    .action(async (session: string | undefined, _options, command: Command) => {
      const global = globalOptions(command);
      const { reportContext } = await import('./commands/context.js');
      const { reportCommand } = await import('./commands/report.js');
      const context = await reportContext(global);
      const opts = command.opts<{
        format: 'markdown' | 'html' | 'json';
        output?: string;
        notes?: string;
        export?: boolean;
      }>();
      code = await reportCommand({
        ...context,
        session,
        format: opts.format,
        output: opts.output,
        export: opts.export === true,
        notes: opts.notes,
        operator: global.operator,
      });
    });

  addStepOptions(
    program
      .command('resume')
      .description('continue an unfinished `run` session (default: the newest): done steps stay done')
      .argument('[session]', 'session id or a unique prefix')
      .option('-y, --yes', 'accept confirmation gates')
      .option('--confirm <text>', 'the exact text a typed gate asks for; once per typed gate', collect),
    'resume',
  ).action(async (session: string | undefined, _options, command: Command) => {
    const { resumeCommand } = await import('./commands/resume.js');
    code = await resumeCommand(session, { ...globalOptions(command), ...command.opts() });
  });

  program
    .command('sandbox')
    .description(
      'keep the sandbox running here and print its kubeconfig and exports; --sandbox elsewhere joins it',
    )
    .action(async (_options, command: Command) => {
      const { sandboxCommand } = await import('./commands/sandbox.js');
      code = await sandboxCommand({ json: globalOptions(command).json === true });
    });

  program
    .command('verify')
    .description(
      'prove one backup restorable now (as the restore-verify CronJobs do): restore into a scratch copy, check, publish <key>.verified.json',
    )
    .argument(
      '[uri]',
      's3://BUCKET/PREFIX<time>.sql.gz or …<time>.backup.tar.gz (default: the newest backup)',
    )
    .option(
      '--latest',
      'the newest backup under POSTGRES_S3_PREFIX, or NEO4J_S3_PREFIX with --neo4j (the default)',
    )
    .option('--neo4j', 'a Neo4j backup: restored into an isolated scratch Neo4j from NEO4J_HOME on this host')
    .action(async (uri: string | undefined, _options, command: Command) => {
      const { verifyCommand } = await import('./commands/verify.js');
      code = await verifyCommand(uri, { ...globalOptions(command), ...command.opts() });
    });

  program
    .command('sessions')
    .description('list recorded sessions: id, started, operator, sections done, outcome')
    .action(async (_options, command: Command) => {
      const global = globalOptions(command);
      const { defaultSessionDir } = await import('./adapters/journal-store.js');
      const { sessionsCommand } = await import('./commands/sessions.js');
      code = await sessionsCommand({
        sessionDir: global.sessionDir ?? defaultSessionDir(),
        json: global.json === true,
      });
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return 0;
      return 2;
    }
    return printError(error);
  }
  return code;
}

// `db-runbook run … | head`: a closed pipe ends the output quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = printError(error);
  },
);
