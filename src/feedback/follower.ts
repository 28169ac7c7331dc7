/**
 * Following: each object a patch reconciled, in its cluster, for the newest commit the patch served — and, for a
 * source, each object that applies it — until the commit is applied there (progress.ts says when), or the timeout.
 * Owns the follows (bounded by `maxFollowed`) and their timers; reads the clusters' views; tells the reporter each
 * change. A newer commit for an object ends its follow as superseded; so are the older commits a patch folded in.
 *
 * Nothing here waits on anything: a patch report or a watch event changes the follow in place, and reports go to
 * write-only observers (the delivery log, metrics, commit statuses queue their own work).
 */
import type { Clock, Ticket } from '../core/index.ts';
import type { FollowStage } from '../store/index.ts';
import type { ClusterView, ObjectName } from './cluster-view.ts';
import { sourceKey } from './object-status.ts';
import { finalStage, readProgress, roleOf, unfollowable, type Reading, type Role, type Wanted } from './progress.ts';

/** A follow as the observers see it, each time it changes. */
export interface FollowView {
  cluster?: string;
  /** `Kustomization flux-system/apps` */
  object: string;
  kind: string;
  namespace: string;
  name: string;
  /** For an object that applies a followed source: the source (`GitRepository flux-system/app`). */
  via?: string;
  stage: FollowStage;
  /** The stage this change reached, once per stage (histograms count it). */
  reached?: FollowStage;
  /** The follow ended with this report. */
  final?: true;
  commit?: string;
  /** The deliveries of this commit the follow serves (their records get its rows). */
  tickets: readonly Ticket[];
  patchedAt?: number;
  handledAt?: number;
  fetchedAt?: number;
  appliedAt?: number;
  endedAt?: number;
  revision?: string;
  detail?: string;
  health?: string;
}

/** What following tells the observers; implemented in observe/ (records, metrics) and by the commit statuses. */
export interface FollowReporter {
  changed(view: FollowView): void;
  /** Objects followed now. */
  following(count: number): void;
}

/** A patch that ended, as following needs it (reconcile's PatchReport). */
export interface PatchedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  tickets: readonly Ticket[];
  /** The requestedAt value written (absent for a fixed annotation such as Argo CD's refresh). */
  value?: string;
  endedAt: number;
}

export interface FollowerOptions {
  /** Each cluster's view, by name (`undefined` for the single `kubernetes:` connection). */
  views: ReadonlyMap<string | undefined, ClusterView>;
  clock: Clock;
  timeoutMs: number;
  maxFollowed: number;
  reporter: FollowReporter;
}

export interface Follower {
  /** A patch of `object` in `cluster` succeeded: follow it (and what applies it) for its newest commit. */
  patched(cluster: string | undefined, object: PatchedObject): void;
  /** A watched object changed: the follows of it read it again. */
  changed(cluster: string | undefined, object: ObjectName): void;
  /** Objects followed now. */
  size(): number;
  /** Ends every follow without a report (shutdown). */
  stop(): void;
}

interface Follow extends ObjectName {
  key: string;
  cluster?: string;
  label: string;
  role: Role;
  via?: string;
  wanted: Wanted & { values: string[] };
  tickets: Ticket[];
  stage: FollowStage;
  reading: Reading;
  times: Pick<FollowView, 'patchedAt' | 'handledAt' | 'fetchedAt' | 'appliedAt' | 'endedAt'>;
  timer: unknown;
  /** A source's: the follows of what applies it. */
  dependants: Set<string>;
}

/** Requested values kept per follow (a burst of deliveries of one commit writes several). */
const MAX_VALUES = 8;
const MAX_TICKETS = 64;
const ORDER: Readonly<Record<string, number>> = { following: 0, handled: 1, fetched: 2, applied: 3 };

/**
 * @example
 * const follower = createFollower({ views: new Map([[undefined, view]]), clock, timeoutMs: 600_000, maxFollowed: 10_000, reporter });
 * follower.patched(undefined, { apiVersion, kind: 'GitRepository', namespace: 'flux-system', name: 'app', tickets, value, endedAt });
 */
export function createFollower(options: FollowerOptions): Follower {
  const follows = new Map<string, Follow>();
  const run: Run = { options, follows };
  return {
    patched(cluster, object) {
      const tickets = [...object.tickets].sort((a, b) => a.seq - b.seq);
      const newest = tickets.at(-1);
      if (!newest) return;
      const commit = newest.cause?.commit;
      const older = tickets.filter((ticket) => ticket.cause?.commit !== commit);
      if (older.length > 0) reportSuperseded(run, cluster, object, older, commit);
      const mine = tickets.filter((ticket) => ticket.cause?.commit === commit);
      startFollow(run, cluster, object, { commit, values: object.value === undefined ? [] : [object.value] }, mine, { patchedAt: object.endedAt });
    },
    changed(cluster, object) {
      const follow = follows.get(followKey(cluster, object));
      if (follow) evaluate(run, follow);
      else joinSource(run, cluster, object);
    },
    size: () => follows.size,
    stop() {
      for (const follow of follows.values()) options.clock.clearTimer(follow.timer);
      follows.clear();
    },
  };
}

interface Run {
  options: FollowerOptions;
  follows: Map<string, Follow>;
}

const followKey = (cluster: string | undefined, object: ObjectName) => `${cluster ?? ''}\u0000${object.kind}/${object.namespace}/${object.name}`;
const labelOf = (object: ObjectName) => `${object.kind} ${object.namespace}/${object.name}`;
const short = (commit: string | undefined) => (commit === undefined ? 'another delivery' : commit.replace(/^sha(1|256):/, '').slice(0, 12));

/** Starts (or joins, for the same commit) the follow of `object`; a follow of another commit is superseded first. */
function startFollow(run: Run, cluster: string | undefined, object: ObjectName, wanted: Wanted, tickets: Ticket[], times: Follow['times'], via?: Follow): Follow | undefined {
  const { options, follows } = run;
  const view = options.views.get(cluster);
  if (!view) return undefined;
  const key = followKey(cluster, object);
  const existing = follows.get(key);
  if (existing && existing.wanted.commit === wanted.commit) {
    join(existing, wanted, tickets, times);
    evaluate(run, existing, true);
    // Another delivery of the same commit: the rows of what applies the source go to its record too.
    for (const dependant of [...existing.dependants].map((key) => follows.get(key))) {
      if (!dependant) continue;
      join(dependant, { commit: wanted.commit, values: [] }, tickets, {});
      evaluate(run, dependant, true);
    }
    return existing;
  }
  if (existing) end(run, existing, 'superseded', `superseded by ${short(wanted.commit)}`);
  const role = roleOf(object.kind);
  const why = view.unwatched(object.kind, object.namespace) ?? unfollowable(role, wanted);
  const base = { ...object, key, ...(cluster !== undefined ? { cluster } : {}), label: labelOf(object), role, ...(via ? { via: via.label } : {}) };
  const follow: Follow = { ...base, wanted: { commit: wanted.commit, values: [...wanted.values] }, tickets: tickets.slice(-MAX_TICKETS), stage: 'following', reading: { stage: 'following' }, times, timer: undefined, dependants: new Set() };
  if (why !== undefined) {
    report(run, { ...follow, stage: 'not-followed', reading: { stage: 'following', detail: why }, times: { ...times, endedAt: options.clock.now() } }, 'not-followed', true);
    return undefined;
  }
  makeRoom(run);
  follows.set(key, follow);
  follow.timer = options.clock.setTimer(() => timedOut(run, follow), options.timeoutMs);
  options.reporter.following(follows.size);
  if (role === 'source' && wanted.commit !== undefined) followDependants(run, follow, view);
  evaluate(run, follow, true);
  return follow;
}

function join(follow: Follow, wanted: Wanted, tickets: readonly Ticket[], times: Follow['times']): void {
  for (const value of wanted.values) if (!follow.wanted.values.includes(value)) follow.wanted.values.push(value);
  follow.wanted.values.splice(0, Math.max(0, follow.wanted.values.length - MAX_VALUES));
  for (const ticket of tickets) if (!follow.tickets.some((known) => known.seq === ticket.seq)) follow.tickets.push(ticket);
  follow.tickets.splice(0, Math.max(0, follow.tickets.length - MAX_TICKETS));
  follow.times.patchedAt ??= times.patchedAt;
}

/** What applies the source follows its commit too (fetched when the source is). */
function followDependants(run: Run, source: Follow, view: ClusterView): void {
  for (const dependant of view.dependants(sourceKey(source.kind, source.namespace, source.name))) {
    source.dependants.add(followKey(source.cluster, dependant));
    startFollow(run, source.cluster, dependant, { commit: source.wanted.commit, values: [] }, source.tickets, {}, source);
  }
}

/**
 * An object not followed changed: if it applies a source followed now (it was created, or its kind listed, after the
 * source's follow began), it is followed too — once per source follow.
 */
function joinSource(run: Run, cluster: string | undefined, object: ObjectName): void {
  if (roleOf(object.kind) !== 'applier') return;
  const view = run.options.views.get(cluster);
  const source = view?.status(object.kind, object.namespace, object.name)?.source;
  if (source === undefined) return;
  const [kind, namespace, name] = source.split('/') as [string, string, string];
  const followed = run.follows.get(followKey(cluster, { kind, namespace, name }));
  const key = followKey(cluster, object);
  if (!followed || followed.role !== 'source' || followed.wanted.commit === undefined || followed.dependants.has(key)) return;
  followed.dependants.add(key);
  startFollow(run, cluster, object, { commit: followed.wanted.commit, values: [] }, followed.tickets, followed.times.fetchedAt !== undefined ? { fetchedAt: followed.times.fetchedAt } : {}, followed);
}

/** Reads the object's status again and reports what changed; `fresh` reports even when nothing did (a new follow). */
function evaluate(run: Run, follow: Follow, fresh = false): void {
  if (!run.follows.has(follow.key)) return;
  const { clock } = run.options;
  const status = run.options.views.get(follow.cluster)?.status(follow.kind, follow.namespace, follow.name);
  const reading = readProgress(follow.role, status, follow.wanted);
  const before = follow.stage;
  const stage = moveTo(follow, reading);
  const now = clock.now();
  if (status?.handledAt !== undefined && follow.wanted.values.includes(status.handledAt)) follow.times.handledAt ??= now;
  if (stage === 'fetched') fetched(run, follow, now);
  if (stage === 'applied') follow.times.appliedAt ??= now;
  const changed = stage !== before || reading.revision !== follow.reading.revision || reading.detail !== follow.reading.detail || reading.health !== follow.reading.health;
  follow.reading = reading;
  follow.stage = stage;
  if (stage === finalStage(follow.role, follow.wanted)) return end(run, follow, stage);
  if (changed || fresh) report(run, follow, stage !== before ? stage : undefined);
}

/** The stage a reading moves the follow to: forward only, but a failure and a recovery from it show as they come. */
function moveTo(follow: Follow, reading: Reading): FollowStage {
  if (reading.stage === 'failed') return 'failed';
  const rank = ORDER[reading.stage] ?? 0;
  // A failure stays until the commit is fetched or applied after all (a controller's retry): not back to pending.
  if (follow.stage === 'failed') return rank >= ORDER.fetched! ? reading.stage : 'failed';
  return rank >= (ORDER[follow.stage] ?? 0) ? reading.stage : follow.stage;
}

function fetched(run: Run, source: Follow, now: number): void {
  source.times.fetchedAt ??= now;
  for (const key of source.dependants) {
    const dependant = run.follows.get(key);
    if (!dependant || dependant.times.fetchedAt !== undefined) continue;
    dependant.times.fetchedAt = source.times.fetchedAt;
    report(run, dependant);
  }
}

function timedOut(run: Run, follow: Follow): void {
  if (run.follows.get(follow.key) !== follow) return;
  if (follow.stage === 'failed') return end(run, follow, 'failed');
  const wanted = finalStage(follow.role, follow.wanted);
  const seen = follow.reading.revision ? `; it reports ${follow.reading.revision}` : '';
  end(run, follow, 'timed-out', `not ${wanted} within ${Math.round(run.options.timeoutMs / 1000)} s (last ${follow.stage}${seen})`);
}

/** The follow's last report and its end: removed, its timer cleared. */
function end(run: Run, follow: Follow, stage: FollowStage, detail?: string): void {
  const { clock, reporter } = run.options;
  clock.clearTimer(follow.timer);
  run.follows.delete(follow.key);
  reporter.following(run.follows.size);
  follow.times.endedAt = clock.now();
  follow.stage = stage;
  if (detail !== undefined) follow.reading = { ...follow.reading, detail };
  report(run, follow, stage, true);
}

/** At the cap, the oldest follow ends, so following never holds more than `maxFollowed` objects. */
function makeRoom(run: Run): void {
  const { follows, options } = run;
  while (follows.size >= options.maxFollowed) {
    const oldest = follows.values().next().value!;
    end(run, oldest, 'not-followed', `more than ${options.maxFollowed} objects followed at once (feedback.maxFollowed): following ended`);
  }
}

function report(run: Run, follow: Follow, reached?: FollowStage, final?: true): void {
  const { reading, times } = follow;
  run.options.reporter.changed({
    ...(final ? { final } : {}),
    ...(follow.cluster !== undefined ? { cluster: follow.cluster } : {}),
    object: follow.label,
    kind: follow.kind,
    namespace: follow.namespace,
    name: follow.name,
    ...(follow.via !== undefined ? { via: follow.via } : {}),
    stage: follow.stage,
    ...(reached !== undefined ? { reached } : {}),
    ...(follow.wanted.commit !== undefined ? { commit: follow.wanted.commit } : {}),
    tickets: follow.tickets,
    ...times,
    ...(reading.revision !== undefined ? { revision: reading.revision } : {}),
    ...(reading.detail !== undefined ? { detail: reading.detail } : {}),
    ...(reading.health !== undefined ? { health: reading.health } : {}),
  });
}

/** Deliveries a patch folded in whose commit is not the newest: never followed, superseded by it. */
function reportSuperseded(run: Run, cluster: string | undefined, object: PatchedObject, tickets: Ticket[], commit: string | undefined): void {
  const now = run.options.clock.now();
  const groups = new Map<string | undefined, Ticket[]>();
  for (const ticket of tickets) groups.set(ticket.cause?.commit, [...(groups.get(ticket.cause?.commit) ?? []), ticket]);
  for (const [older, group] of groups) {
    run.options.reporter.changed({
      ...(cluster !== undefined ? { cluster } : {}),
      object: labelOf(object),
      kind: object.kind,
      namespace: object.namespace,
      name: object.name,
      stage: 'superseded',
      reached: 'superseded',
      final: true,
      ...(older !== undefined ? { commit: older } : {}),
      tickets: group,
      patchedAt: object.endedAt,
      endedAt: now,
      detail: `superseded by ${short(commit)} before it was followed`,
    });
  }
}
