/** Small pure text helpers shared by steps (no I/O). */

/** The first non-blank line of a program's output, trimmed (`aws --version` → `aws-cli/2.15.0 …`). */
export function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? ''
  );
}
