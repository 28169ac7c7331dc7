/**
 * Process metrics that are true under Bun. prom-client's Node defaults report empty GC and V8 heap-space
 * figures here, so fluxgate exports only what the OS and the runtime measure for real.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Renderable } from './metrics-registry.ts';

function gauge(name: string, help: string, value: number | undefined, type = 'gauge'): string {
  if (value === undefined || Number.isNaN(value)) return '';
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`;
}

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

export function processMetrics(startTimeSeconds: number): Renderable {
  const limit = maxFds();
  return {
    render() {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      return [
        gauge('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', (cpu.user + cpu.system) / 1e6, 'counter'),
        gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', memory.rss),
        gauge('process_heap_bytes', 'JavaScript heap in use, in bytes.', memory.heapUsed),
        gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', startTimeSeconds),
        gauge('process_open_fds', 'Number of open file descriptors.', openFds()),
        gauge('process_max_fds', 'Maximum number of open file descriptors.', limit),
      ].join('');
    },
  };
}
