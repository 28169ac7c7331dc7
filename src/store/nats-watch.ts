/**
 * A KV watch that survives what NATS does to it: the client's ordered consumer recreates itself after missed
 * heartbeats, but once recreated it checks every 30 s only, and after every server went away it can stay silent.
 * This one is started again when it ends, when the connection comes back, and when the bucket moved past what it
 * delivered (the store's periodic check); each start reads the bucket's current values again, and what was not
 * among them is gone (deleted while nobody watched).
 */
import type { KV, KvEntry } from '@nats-io/kv';
import { delay, type Clock } from '../core/index.ts';

export interface WatchHandlers {
  /** A (re)start: every key known so far is unconfirmed until the snapshot names it. */
  begin(): void;
  entry(entry: KvEntry): void;
  /** The snapshot of this start is complete: unconfirmed keys are gone. */
  caughtUp(): void;
}

export interface SupervisedWatch {
  /** Resolves once the first snapshot was read. */
  ready: Promise<void>;
  /** The highest revision delivered (or known delivered as of the last snapshot). */
  revision(): number;
  /** Starts it again now (a reconnect, a stall). */
  restart(): void;
  stop(): void;
}

const RESTART_MS = 1_000;

/**
 * @example
 * const watch = superviseWatch(kv, '>', clock, { begin, entry, caughtUp }, (error) => failed('watch', error));
 * await watch.ready;
 */
export function superviseWatch(kv: KV, key: string, clock: Clock, handlers: WatchHandlers, failed: (error: string) => void): SupervisedWatch {
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let current: { stop(): void } | undefined;
  let generation = 0;
  let seen = 0;
  let stopped = false;
  const stopping = new AbortController();

  async function run(mine: number): Promise<void> {
    try {
      const status = await kv.status();
      if (mine !== generation) return;
      const lastSeq = status.streamInfo.state.last_seq;
      handlers.begin();
      let caught = false;
      const catchUp = () => {
        if (caught) return;
        caught = true;
        seen = Math.max(seen, lastSeq);
        handlers.caughtUp();
        markReady();
      };
      if (status.values === 0) catchUp();
      const watcher = await kv.watch({ key });
      if (mine !== generation) return watcher.stop();
      current = watcher;
      for await (const entry of watcher) {
        if (mine !== generation) break;
        seen = Math.max(seen, entry.revision);
        handlers.entry(entry);
        if (entry.delta === 0) catchUp();
      }
    } catch (error) {
      if (!stopped) failed((error as Error).message);
    }
    if (stopped || mine !== generation) return;
    await delay(clock, RESTART_MS, stopping.signal);
    if (!stopped && mine === generation) start();
  }
  function start(): void {
    generation += 1;
    current?.stop();
    current = undefined;
    void run(generation);
  }
  start();
  return {
    ready,
    revision: () => seen,
    restart: start,
    stop() {
      stopped = true;
      generation += 1;
      stopping.abort();
      current?.stop();
    },
  };
}
