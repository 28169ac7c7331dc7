/**
 * Process metrics that are true under Bun. prom-client's Node defaults (`collectDefaultMetrics`) report empty
 * GC and V8 heap-space figures and a made-up event-loop lag here, so fluxgate exports only what the OS and the
 * runtime measure for real, under the names those defaults use.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Counter, Gauge, type Registry } from './prom.ts';

function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

function maxFds(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((text) => text.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^[0-9]+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adds the process metrics to `registers`, each read when scraped. A figure the OS does not give (no /proc)
 * is left out rather than reported as 0.
 *
 * @example
 * registerProcessMetrics([registry], Date.now() / 1000);
 */
export function registerProcessMetrics(registers: Registry[], startTimeSeconds: number): void {
  const gauge = (name: string, help: string, read: () => number | undefined) => {
    if (read() === undefined) return;
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
  };
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers,
    collect() {
      const cpu = process.cpuUsage();
      // A counter only goes up: set it to the process's own running total.
      this.reset();
      this.inc((cpu.user + cpu.system) / 1e6);
    },
  });
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  gauge('process_heap_bytes', 'JavaScript heap in use, in bytes.', () => process.memoryUsage().heapUsed);
  gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => startTimeSeconds);
  gauge('process_open_fds', 'Number of open file descriptors.', openFds);
  // Read once: Bun raises the soft limit before any code runs, and nothing changes it later.
  const limit = maxFds();
  gauge('process_max_fds', 'Maximum number of open file descriptors.', () => limit);
}
