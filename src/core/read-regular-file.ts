/**
 * Reads a file fluxgate is told to read (the config, secrets, TLS files, kubeconfigs and the files they name,
 * plugins) only when it is a regular file, after symlinks, and only up to a size: a secret pointing at
 * /dev/zero would otherwise be read until memory runs out, and a FIFO would block the process in `open` until
 * someone writes to it, with nothing served meanwhile. The file is opened without blocking and checked on the
 * descriptor (fstat), so what is checked is what is read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** Why a file was not read: the reason, in words, for `cannot read <what> <path>: <reason>`. */
export class FileRefused extends Error {
  override name = 'FileRefused';
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** `64 KiB`, `1 MiB`: a size as the docs and messages write it. */
export function formatSize(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} bytes`;
}

/** Why a file is not read as a regular one (`a named pipe (FIFO), not a regular file`), or undefined when it is. */
export function notRegular(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  const kind = stats.isFIFO() ? 'a named pipe (FIFO)' : stats.isCharacterDevice() ? 'a character device' : stats.isBlockDevice() ? 'a block device' : stats.isDirectory() ? 'a directory' : stats.isSocket() ? 'a socket' : 'a special file';
  return `${kind}, not a regular file`;
}

/**
 * The bytes of `path`, at most `maxBytes` of them; throws FileRefused when it is not a regular file (after
 * symlinks), is larger, or `vet` refuses what fstat says of it; a system error (ENOENT, EACCES) as it is.
 *
 * @example
 * readRegularFile('/etc/fluxgate/secret', 64 * 1024).toString('utf8');
 * readRegularFile('/dev/zero', 64 * 1024); // throws FileRefused: a character device, not a regular file
 */
export function readRegularFile(path: string, maxBytes: number, vet?: (stats: Stats) => string | undefined): Buffer {
  // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer. It changes nothing for a regular file.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stats = fstatSync(fd);
    const refused = notRegular(stats) ?? vet?.(stats);
    if (refused !== undefined) throw new FileRefused(refused);
    const tooLarge = () => new FileRefused(`larger than ${formatSize(maxBytes)}, the most fluxgate reads from it`);
    if (stats.size > maxBytes) throw tooLarge();
    const bytes = readBounded(fd, stats.size, maxBytes);
    if (bytes === undefined) throw tooLarge();
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** The file's text (UTF-8), on the same terms as readRegularFile. */
export function readRegularText(path: string, maxBytes: number): string {
  return readRegularFile(path, maxBytes).toString('utf8');
}

/**
 * Reads to the end, never past `maxBytes` (undefined: there was more): the size fstat gave may be wrong (a file
 * growing, /proc files that say 0, a pipe), so the buffer starts at that size plus one byte, to see the end, and
 * grows up to the limit.
 */
export function readBounded(fd: number, sizeHint: number, maxBytes: number): Buffer | undefined {
  let buffer = Buffer.allocUnsafe(Math.min(sizeHint, maxBytes) + 1);
  let length = 0;
  for (let read = -1; read !== 0; length += read) {
    if (length === buffer.length) {
      if (buffer.length > maxBytes) break;
      const larger = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
      buffer.copy(larger, 0, 0, length);
      buffer = larger;
    }
    read = readSync(fd, buffer, length, buffer.length - length, null);
  }
  return length > maxBytes ? undefined : buffer.subarray(0, length);
}

/**
 * Why a read failed, in a few words, for `cannot read <what> <path>: <reason>`: the refusal, or the system's
 * error in words (`no such file`, `permission denied`; an unusual code as it is).
 */
export function readFailure(error: unknown): string {
  if (error instanceof FileRefused) return error.message;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code !== undefined) return SYSTEM_ERRORS[code] ?? code;
  return (error as Error)?.message ?? 'read failed';
}

/** The system errors a read meets, in words: a raw `ENOENT` says nothing to most readers. */
const SYSTEM_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'a directory, not a regular file',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
  EIO: 'an input/output error',
};
