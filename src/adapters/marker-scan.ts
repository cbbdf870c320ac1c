import { ChildStage, InflateError, signalName } from './child-stage.js';

/**
 * The marker scan of a `.sql.gz` outside Node: `igzip -dc` inflates and a small perl reader counts the
 * inflated bytes and looks for the markers, so the inflated text (4–8× the object) never crosses into
 * Node — Node only hashes the compressed bytes and feeds them in. Same results as MarkerSearch over
 * the igzip inflater: every marker found once, across read boundaries (keeping longest marker − 1
 * bytes), inflated size, and the same error kinds (igzip exiting non-zero after reading its input:
 * bad gzip data; igzip or perl not running or killed: no verdict on the data).
 *
 * perl is the reader because it is on every Debian/Ubuntu (perl-base is essential) and reads 1 MiB at a
 * time with no line buffering: a dump line of any length (a large bytea row) costs no memory, which a
 * `grep -F` stage would not promise, and it counts bytes in the same pass.
 *
 * Protocol on perl's stdout, one line each: `b <inflated bytes>` (progress, then final), `f <index>`
 * (marker <index> found), `x <igzip exit code> <igzip signal number>` last.
 */
const READER = String.raw`
my ($igzip, @hex) = @ARGV;
my @pending = map { [$_, pack('H*', $hex[$_])] } 0 .. $#hex;
my $keep = 0;
for (@pending) { my $l = length($_->[1]) - 1; $keep = $l if $l > $keep }
my $pid = open(my $in, '-|', $igzip, '-dc');
if (!defined $pid) { print STDERR "igzip could not run: $!\n"; exit 3 }
# igzip alone holds the object's pipe: when it stops at bad data, the writer sees EPIPE.
open(STDIN, '<', '/dev/null');
binmode $in;
eval { fcntl($in, 1031, 1 << 20) };  # F_SETPIPE_SZ (Linux): 1 MiB pipe, fewer wake-ups
$| = 1;
my ($n, $told, $tail, $buf) = (0, 0, '', '');
while (1) {
  my $r = sysread($in, $buf, 1 << 20);
  if (!defined $r) { next if $!{EINTR}; print STDERR "reading igzip's output: $!\n"; exit 4 }
  last if $r == 0;
  $n += $r;
  if (@pending) {
    my $joint = $keep ? $tail . substr($buf, 0, $keep) : '';
    @pending = grep {
      my $hit = index($buf, $_->[1]) >= 0 || index($joint, $_->[1]) >= 0;
      print "f $_->[0]\n" if $hit;
      !$hit
    } @pending;
    if ($keep) { my $s = length($buf) >= $keep ? $buf : $tail . $buf; $tail = length($s) > $keep ? substr($s, -$keep) : $s }
  }
  if ($n - $told >= 8 << 20) { print "b $n\n"; $told = $n }
}
close $in;
my $status = $?;
print "b $n\nx ", $status >> 8, ' ', $status & 127, "\n";
exit 0;
`;

/**
 * Compressed bytes in, nothing out: ends when igzip read a whole, valid gzip stream; `bytes` and
 * `found` (indexes into the markers it was given) hold what it saw, also after an integrity error.
 */
export class MarkerScanChild extends ChildStage {
  readonly inflater = 'igzip' as const;
  /** Inflated bytes so far (progress arrives every 8 MiB, then the total). */
  bytes = 0;
  readonly found = new Set<number>();
  private line = '';
  private igzipExit: { code: number; signal: number } | undefined;

  constructor(perl: string, igzip: string, markers: readonly Buffer[]) {
    super(
      'the marker scan (perl)',
      perl,
      ['-e', READER, '--', igzip, ...markers.map((m) => m.toString('hex'))],
      {
        readableObjectMode: true,
        env: { ...process.env, LC_ALL: 'C' },
      },
    );
  }

  override _read(): void {
    // nothing to read: the results are `bytes` and `found`
  }

  protected onStdout(chunk: Buffer): void {
    const lines = (this.line + chunk.toString('latin1')).split('\n');
    this.line = lines.pop() ?? '';
    for (const line of lines) {
      const [kind, a, b] = line.split(' ');
      if (kind === 'b') this.bytes = Number(a);
      else if (kind === 'f') this.found.add(Number(a));
      else if (kind === 'x') this.igzipExit = { code: Number(a), signal: Number(b) };
    }
  }

  protected onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const exit = this.igzipExit;
    if (code !== 0 || !exit) {
      const said = this.lastStderrLine();
      const how = signal ? `was killed by ${signal}` : `exited ${code ?? '?'}`;
      this.destroy(new InflateError(`the marker scan (perl) ${how}${said ? `: ${said}` : ''}`, false));
    } else if (exit.signal) {
      const name = signalName(exit.signal);
      this.destroy(new InflateError(`igzip was killed by ${name} (not a verdict on the data)`, false));
    } else if (exit.code === 0) this.push(null);
    else {
      const said = this.lastStderrLine();
      this.destroy(new InflateError(`invalid gzip data (igzip: ${said || `exit ${exit.code}`})`, true));
    }
  }
}
