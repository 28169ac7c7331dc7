/**
 * How objects are shared out between replicas: every item lives in a partition (one of `PARTITIONS`, by a hash of
 * its object, or the accepting replica's own `r-<replica>` for an item whose filter lives only in that process), and
 * each partition is owned by one replica at a time. Which replica should own a partition is decided by rendezvous
 * hashing over the live replicas: every replica computes the same answer without talking, about an equal share
 * each, and when a replica comes or goes only its share moves.
 */
import { createHash } from 'node:crypto';

/** Enough to share evenly between a handful of replicas; few enough that each lease is cheap to renew. */
export const PARTITIONS = 32;

function hash32(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0);
}

/** `p00` … `p31`. */
export function partitionName(index: number): string {
  return `p${String(index).padStart(2, '0')}`;
}

export const allPartitions: readonly string[] = Array.from({ length: PARTITIONS }, (_, index) => partitionName(index));

/** The partition of the items a replica accepted with an in-process filter. */
export function replicaPartition(replica: string): string {
  return `r-${replica}`;
}

/** The replica whose own partition this is, or undefined for a shared one. */
export function partitionReplica(partition: string): string | undefined {
  return partition.startsWith('r-') ? partition.slice(2) : undefined;
}

/** The work bucket's key of an item: its partition, then a hash of its id (ids hold characters keys cannot). */
export function workKey(partition: string, id: string): string {
  return `${partition}.${createHash('sha1').update(id).digest('hex')}`;
}

export function sharedPartition(id: string): string {
  return partitionName(hash32(id) % PARTITIONS);
}

export function partitionOfKey(key: string): string {
  return key.slice(0, key.indexOf('.'));
}

/**
 * The live replica that should own `partition`: the highest score of (partition, replica).
 *
 * @example preferredOwner('p07', ['a', 'b', 'c']) // the same one on every replica
 */
export function preferredOwner(partition: string, replicas: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const replica of replicas) {
    const score = hash32(`${partition}|${replica}`);
    if (score > bestScore || (score === bestScore && replica < best!)) {
      best = replica;
      bestScore = score;
    }
  }
  return best;
}
