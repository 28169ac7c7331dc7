/**
 * What keeps a replica of `store: nats` in shape, every 5 s: the owned-work gauges, a failing store tried again,
 * readers that fell silent started again, and once a minute retention (failures past `state.retention.maxAge`,
 * delete markers of settled work) and the streams' size.
 *
 * A reader (a watch, the log's reader) that has not reached, by a check, where its stream ended at the previous
 * check is started again: its consumer lived on a node that went away, and the client's own recovery checks every
 * 30 s only. The materializer: deliveries waiting whose oldest did not move in two checks.
 */
import type { JetStreamManager, StreamState } from '@nats-io/jetstream';
import type { Clock } from '../core/index.ts';

export interface Follower {
  stream: string;
  /** Where the reader is (the last sequence it read); undefined: judged by `stuck` instead. */
  position?: () => number;
  stuck?: (state: StreamState) => boolean;
  restart(): void;
}

export interface UpkeepOptions {
  clock: Clock;
  jsm: JetStreamManager;
  followers: readonly Follower[];
  /** Streams whose bytes are the store's size. */
  sized: readonly string[];
  connected(): boolean;
  /** Every check. */
  each(): void;
  /** Once a minute, while connected. */
  retention(now: number): void;
}

const RECHECK_MS = 5_000;
const MAINTENANCE_MS = 60_000;

/** A `stuck` judge for a work queue: messages waiting and the oldest the same at `checks` checks in a row. */
export function queueStuck(checks = 2): (state: StreamState) => boolean {
  let first = 0;
  let same = 0;
  return (state) => {
    same = state.messages > 0 && state.first_seq === first ? same + 1 : 0;
    first = state.first_seq;
    return same >= checks;
  };
}

/**
 * @example
 * const upkeep = startUpkeep({ clock, jsm, followers, sized: ['fluxgate-accepted'], connected, each, retention });
 * upkeep.sizeBytes(); upkeep.stop();
 */
export function startUpkeep(options: UpkeepOptions): { sizeBytes(): number; stop(): void } {
  const { clock, jsm } = options;
  const targets = new Map<Follower, number>();
  let sizeBytes = 0;
  let lastMaintenance = clock.now();
  let timer: unknown;

  const checkFollower = async (follower: Follower) => {
    const { state } = await jsm.streams.info(follower.stream);
    const behind = follower.position ? follower.position() < (targets.get(follower) ?? 0) : (follower.stuck?.(state) ?? false);
    targets.set(follower, state.last_seq);
    if (behind) follower.restart();
  };
  const measure = async () => {
    const sizes = await Promise.all(options.sized.map(async (stream) => (await jsm.streams.info(stream)).state.bytes));
    sizeBytes = sizes.reduce((sum, bytes) => sum + bytes, 0);
  };
  const tick = () => {
    const now = clock.now();
    options.each();
    if (options.connected()) for (const follower of options.followers) void checkFollower(follower).catch(() => undefined);
    if (options.connected() && now - lastMaintenance >= MAINTENANCE_MS) {
      lastMaintenance = now;
      options.retention(now);
      void measure().catch(() => undefined);
    }
    timer = clock.setTimer(tick, RECHECK_MS);
  };
  tick();
  return {
    sizeBytes: () => sizeBytes,
    stop: () => clock.clearTimer(timer),
  };
}
