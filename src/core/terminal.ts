/**
 * Whether a file descriptor is a terminal (text logs with colour) or not (JSON lines), decided without creating
 * `process.stderr`: that getter builds a tty or stream object and loads Node's stream machinery, about 5 ms of a
 * compiled cold start. Only a character device can be a terminal, so a pipe, a socket or a file (a container
 * runtime, systemd's journal, a log file) is told apart by one fstat; node:tty is asked only about the rest.
 */
import { fstatSync } from 'node:fs';

export function isTerminal(fd: number): boolean {
  let characterDevice: boolean;
  try {
    characterDevice = fstatSync(fd).isCharacterDevice();
  } catch {
    return false; // closed or invalid: nothing to colour
  }
  return characterDevice && (require('node:tty') as typeof import('node:tty')).isatty(fd);
}
