/** Queued faults for test servers: each matching request takes the next fault of the first queue it matches. */
export interface FaultMatch {
  method?: string;
  /** Substring of the request path. */
  path?: string;
}

export function createFaultQueue<F>() {
  const queues: (FaultMatch & { faults: F[] })[] = [];
  return {
    inject(match: FaultMatch, faults: F[]): void {
      queues.push({ ...match, faults: [...faults] });
    },
    take(method: string, path: string): F | undefined {
      for (const queue of queues) {
        if (queue.faults.length === 0) continue;
        if (queue.method && queue.method.toUpperCase() !== method) continue;
        if (queue.path && !path.includes(queue.path)) continue;
        return queue.faults.shift();
      }
      return undefined;
    },
    pending: () => queues.reduce((count, queue) => count + queue.faults.length, 0),
  };
}
