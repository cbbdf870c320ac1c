import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/**
 * Files the tool reads that a user names or that sit in a shared directory (the values file, a
 * kubeconfig, session journals) are opened without blocking and checked before anything is read: a
 * FIFO would block `open` for ever, `/dev/zero` would never end, and a huge file would fill memory.
 */
export class FileInputError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly reason: 'not-regular' | 'too-large' | 'unreadable',
  ) {
    super(message);
    this.name = 'FileInputError';
  }
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens `path` for reading without blocking (O_NONBLOCK: a FIFO opens at once) and checks that it is a
 * regular file of at most `maxBytes`. Returns the descriptor and its size; the caller closes it.
 */
export function openBounded(path: string, what: string, maxBytes: number): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new FileInputError(`cannot read ${what} ${path}: ${code}`, path, 'unreadable');
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw new FileInputError(`${what} ${path} is ${kindOf(stats)}, not a regular file`, path, 'not-regular');
  }
  if (stats.size > maxBytes) {
    closeSync(fd);
    throw new FileInputError(
      `${what} ${path} is ${stats.size} bytes, more than the ${maxBytes} it may have`,
      path,
      'too-large',
    );
  }
  return { fd, size: stats.size };
}

/** The whole of a small regular file as UTF-8, read through {@link openBounded} (never more than `maxBytes`). */
export function readBoundedFile(path: string, what: string, maxBytes: number): string {
  const { fd } = openBounded(path, what, maxBytes);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      total += read;
      // it may have grown since fstat
      if (total > maxBytes)
        throw new FileInputError(
          `${what} ${path} is more than the ${maxBytes} bytes it may have`,
          path,
          'too-large',
        );
      chunks.push(Buffer.from(buffer.subarray(0, read)));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Limits: a values file and a kubeconfig are small; a journal of 100k events is ~30 MB. */
export const MAX_VALUES_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024;
export const MAX_JOURNAL_BYTES = 512 * 1024 * 1024;
