/**
 * Which replica owns which partition of the objects (nats-partitions.ts), on the bucket `<name>-owners` whose keys
 * expire `state.nats.lease` after their last write:
 * - `replica.<id>`: a replica's heartbeat, written every lease/3; the live replicas are the keys present;
 * - `partition.<p>`: the owner of partition p, taken with `create` (fails while another holds it), renewed with a
 *   compare-and-set every lease/3, given back with a conditional delete.
 * A replica that dies stops renewing: its keys expire after at most `lease`, and at its next round (lease/3 later
 * at most) the replica that rendezvous hashing prefers among the live ones takes each partition over. A replica
 * that should no longer own a partition (another joined) gives it back once nothing it started there is owed.
 */
import type { KV } from '@nats-io/kv';
import type { Clock } from '../core/index.ts';
import { allPartitions, partitionReplica, preferredOwner, replicaPartition } from './nats-partitions.ts';
import { isConflict } from './nats-work.ts';

export interface OwnershipOptions {
  kv: KV;
  replica: string;
  leaseMs: number;
  clock: Clock;
  /** Partitions beyond the shared ones that hold work (other replicas' own partitions). */
  extraPartitions(): readonly string[];
  /** Whether this replica still has work it started in the partition (giving it back waits for it, a lease at most). */
  busy(partition: string): boolean;
  acquired(partition: string): void;
  lost(partition: string): void;
  /** A NATS operation failed (counted and shown by the caller). */
  failed(operation: string, error: string): void;
}

export interface Ownership {
  owns(partition: string): boolean;
  owned(): string[];
  /** The replicas seen alive at the last round (this one included). */
  live(): string[];
  /** One round: heartbeat, renewals, take-overs and hand-backs. */
  tick(): Promise<void>;
  /** Rounds every lease/3 until `close`. */
  start(): void;
  /** Gives every partition back and removes the heartbeat, so others take over at once. */
  close(): Promise<void>;
}

interface Held {
  revision: number;
  renewedAt: number;
  /** When it was first found to belong to another replica now. */
  releasingSince?: number;
}

/**
 * @example
 * const ownership = createOwnership({ kv: layout.owners, replica, leaseMs: 15_000, clock, extraPartitions, busy, acquired, lost, failed });
 * await ownership.tick(); ownership.start();
 */
export function createOwnership(options: OwnershipOptions): Ownership {
  const { kv, replica, leaseMs, clock } = options;
  const state: Leases = { options, own: replicaPartition(replica), held: new Map(), live: new Set([replica]) };
  let timer: unknown;
  let running: Promise<void> | undefined;
  let closed = false;
  const ownership: Ownership = {
    owns: (partition) => state.held.has(partition),
    owned: () => [...state.held.keys()],
    live: () => [...state.live],
    tick() {
      running ??= round(state).finally(() => (running = undefined));
      return running;
    },
    start() {
      const next = () => {
        if (closed) return;
        timer = clock.setTimer(() => void ownership.tick().finally(next), Math.max(100, Math.floor(leaseMs / 3)));
      };
      next();
    },
    async close() {
      closed = true;
      clock.clearTimer(timer);
      await running;
      await Promise.all([...state.held].map(([partition, entry]) => kv.delete(`partition.${partition}`, { previousSeq: entry.revision }).catch(() => undefined)));
      state.held.clear();
      await kv.delete(`replica.${replica}`).catch(() => undefined);
    },
  };
  return ownership;
}

/** What one replica holds: its own partition, the leases it holds, the replicas seen alive at the last round. */
interface Leases {
  options: OwnershipOptions;
  own: string;
  held: Map<string, Held>;
  live: Set<string>;
}

function drop(state: Leases, partition: string): void {
  state.held.delete(partition);
  state.options.lost(partition);
}

/** One round: renew what is held, heartbeat and read who lives, then take what this replica should own and give back the rest. */
async function round(state: Leases): Promise<void> {
  const { options, own, held } = state;
  const now = options.clock.now();
  await renew(state, now);
  if (!(await readLive(state))) return;
  const candidates = new Set([...allPartitions, own, ...options.extraPartitions(), ...held.keys()]);
  const work: Promise<void>[] = [];
  for (const partition of candidates) {
    const entry = held.get(partition);
    const want = wanted(state, partition) && (partition === own || allPartitions.includes(partition) || options.extraPartitions().includes(partition));
    if (entry && !want) work.push(giveBack(state, partition, entry, now));
    else if (entry) entry.releasingSince = undefined;
    else if (want) work.push(take(state, partition, now));
  }
  await Promise.all(work);
}

async function renew(state: Leases, now: number): Promise<void> {
  const { kv, replica, leaseMs } = state.options;
  await Promise.all(
    [...state.held].map(async ([partition, entry]) => {
      try {
        entry.revision = await kv.update(`partition.${partition}`, replica, entry.revision);
        entry.renewedAt = now;
      } catch (error) {
        if (isConflict(error)) return drop(state, partition);
        state.options.failed('lease', (error as Error).message);
        // Unreachable for a whole lease: another replica may hold it by now, so this one stops feeding it.
        if (now - entry.renewedAt >= leaseMs) drop(state, partition);
      }
    }),
  );
}

async function readLive(state: Leases): Promise<boolean> {
  const { kv, replica, clock } = state.options;
  try {
    await kv.put(`replica.${replica}`, String(clock.now()));
    const found = new Set<string>([replica]);
    for await (const key of await kv.keys('replica.*')) found.add(key.slice('replica.'.length));
    state.live = found;
    return true;
  } catch (error) {
    state.options.failed('heartbeat', (error as Error).message);
    return false;
  }
}

/** Whether this replica should own `partition` now. */
function wanted(state: Leases, partition: string): boolean {
  if (partition === state.own) return true;
  const owner = partitionReplica(partition);
  // Another replica's own partition is its own while it lives; taken over only once it is gone.
  if (owner !== undefined && state.live.has(owner)) return false;
  return preferredOwner(partition, state.live) === state.options.replica;
}

async function take(state: Leases, partition: string, now: number): Promise<void> {
  const { kv, replica } = state.options;
  try {
    const revision = await kv.create(`partition.${partition}`, replica);
    state.held.set(partition, { revision, renewedAt: now });
    state.options.acquired(partition);
  } catch (error) {
    if (!isConflict(error)) state.options.failed('lease', (error as Error).message);
  }
}

/** Gives the partition back once nothing this replica started there is owed (a lease at most). */
async function giveBack(state: Leases, partition: string, entry: Held, now: number): Promise<void> {
  const { options } = state;
  entry.releasingSince ??= now;
  if (options.busy(partition) && now - entry.releasingSince < options.leaseMs) return;
  try {
    await options.kv.delete(`partition.${partition}`, { previousSeq: entry.revision });
  } catch (error) {
    if (!isConflict(error)) return options.failed('lease', (error as Error).message);
  }
  drop(state, partition);
}
