/**
 * The agent of a relay: this fluxgate connects out to its edge (`upstream:`), takes the events relayed for it into
 * its own journal (agent-events.ts) and acknowledges each one only after that; it reconnects with backoff and
 * jitter, resuming after the last event its journal has. No port of the agent is opened: only egress.
 */
import { backoffDelay, delay, redactUrl, type Clock, type Ticket } from '../core/index.ts';
import type { RelayEvent } from '../pipeline/index.ts';
import { createAckSender, type AckSender } from './agent-acks.ts';
import { takeEvent, takeGap, type TakeDeps, type Taken } from './agent-events.ts';
import { connectUpstream, type ConnectionEnd, type Frame } from './agent-stream.ts';
import { relayKeys, type RelayKeys } from './credentials.ts';
import { decodeHello, decodeRelayEvent, parseEventId, type Hello } from './wire.ts';

export interface UpstreamSettings {
  url: string;
  token: string;
  caPem?: string;
  reconnect: { initialDelay: number; maxDelay: number };
}

/** What the agent tells the observers (metrics, logs, the delivery log); implemented in observe/. */
export interface AgentReporter {
  connected(hello: Hello): void;
  disconnected(end: ConnectionEnd, retryInMs: number): void;
  event(id: string, relayed: RelayEvent, taken: Taken): void;
  /** A signed event this agent cannot read (a newer edge?): skipped, loudly. */
  unreadable(id: string): void;
  gap(id: string, reason: string, taken: { ticket?: Ticket; objects: number }): void;
  ackFailed(error: string): void;
}

/** The upstream connection as /readyz and the status page show it. */
export interface UpstreamStatus {
  url: string;
  state: 'waiting-for-ready' | 'connecting' | 'connected' | 'backing-off' | 'stopped';
  /** Since when it is in this state (ms since the epoch). */
  since: number;
  /** Why the last connection ended. */
  error?: string;
  subscriber?: string;
  /** The last event its journal has, and the last the edge took as acknowledged. */
  lastEventId?: string;
  acknowledged?: string;
  lastEvent?: { id: string; receivedAt: number; takenAt: number };
  /** For the last event: from the edge receiving it to this agent's journal having it. */
  lagSeconds?: number;
  gaps: number;
  lastGap?: { at: number; reason: string };
}

export interface AgentOptions extends TakeDeps {
  settings: UpstreamSettings;
  /** Whether the agent can do its work now (discovery listed, the API answers): it connects only then. */
  ready(): Promise<boolean>;
  clock: Clock;
  random: () => number;
  reporter: AgentReporter;
}

export interface Agent {
  start(): void;
  status(): UpstreamStatus;
  stop(): Promise<void>;
}

/** Before the edge's hello says its heartbeat: a stream silent this long is dead. */
const DEFAULT_IDLE_MS = 60_000;
const READY_RECHECK_MS = 1_000;

/**
 * @example
 * const agent = createAgent({ settings, journal, source, accepting, ready, clock, random: Math.random, reporter });
 * agent.start();
 */
export function createAgent(options: AgentOptions): Agent {
  const { clock, settings } = options;
  const keys = relayKeys(settings.token);
  const stopping = new AbortController();
  const status: UpstreamStatus = { url: redactUrl(settings.url), state: 'waiting-for-ready', since: clock.now(), gaps: 0 };
  const acks = createAckSender({ url: settings.url, credential: keys.credential, ...(settings.caPem ? { caPem: settings.caPem } : {}), clock, random: options.random, failed: options.reporter.ackFailed, taken: (id) => (status.acknowledged = id) });
  const moveTo = (state: UpstreamStatus['state']) => {
    status.state = state;
    status.since = clock.now();
  };
  let running: Promise<void> | undefined;
  return {
    start() {
      running ??= run(options, keys, acks, status, moveTo, stopping.signal);
    },
    status: () => ({ ...status }),
    async stop() {
      stopping.abort();
      await running;
      acks.stop();
      moveTo('stopped');
    },
  };
}

async function run(options: AgentOptions, keys: RelayKeys, acks: AckSender, status: UpstreamStatus, moveTo: (state: UpstreamStatus['state']) => void, signal: AbortSignal): Promise<void> {
  const { clock, settings } = options;
  const policy = { maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: settings.reconnect.initialDelay, maxDelayMs: settings.reconnect.maxDelay, random: options.random };
  let failures = 0;
  while (!signal.aborted) {
    moveTo('waiting-for-ready');
    while (!signal.aborted && !(await options.ready())) await delay(clock, READY_RECHECK_MS, signal);
    if (signal.aborted) break;
    moveTo('connecting');
    const connection = { hello: undefined as Hello | undefined };
    const end = await connectUpstream({
      url: settings.url,
      credential: keys.credential,
      signing: keys.signing,
      ...(status.lastEventId !== undefined ? { lastEventId: status.lastEventId } : {}),
      ...(settings.caPem ? { caPem: settings.caPem } : {}),
      idleMs: () => (connection.hello ? Math.max(3 * connection.hello.heartbeatMs, 10_000) : DEFAULT_IDLE_MS),
      maxFrameBytes: MAX_FRAME_BYTES,
      signal,
      clock,
      frame: (frame) => handleFrame(frame, { options, acks, status, moveTo, connection }),
    });
    if (end.kind === 'stopped' || signal.aborted) break;
    // A connection the edge took (its hello checked out) starts the backoff over.
    failures = connection.hello ? 1 : failures + 1;
    const wait = backoffDelay(policy, failures, end.kind === 'refused' ? end.retryAfterMs : undefined);
    status.error = 'error' in end ? end.error : undefined;
    moveTo('backing-off');
    options.reporter.disconnected(end, wait);
    await delay(clock, wait, signal);
  }
}

/** Frames larger than this end the connection: the edge cuts its events to relay.maxEventSize (64 KiB by default). */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

interface FrameContext {
  options: AgentOptions;
  acks: AckSender;
  status: UpstreamStatus;
  moveTo(state: UpstreamStatus['state']): void;
  connection: { hello?: Hello };
}

/** One verified frame, in order: the hello, an event or a gap taken into the journal, a sync; each id then acknowledged. */
async function handleFrame(frame: Frame, context: FrameContext): Promise<void> {
  const { options, status } = context;
  if (frame.type === 'hello') {
    const hello = decodeHello(frame.data);
    if (!hello) throw new Error('the edge\'s hello cannot be read');
    context.connection.hello = hello;
    status.subscriber = hello.subscriber;
    status.error = undefined;
    context.moveTo('connected');
    options.reporter.connected(hello);
    return;
  }
  const id = frame.id;
  if (id === undefined || !parseEventId(id) || !context.connection.hello) throw new Error(`a ${frame.type} frame without a valid id, or before the hello`);
  if (frame.type === 'event') await takeRelayed(id, frame.data, context);
  else if (frame.type === 'gap') await takeGapFrame(id, frame.data, context);
  else if (!isAfter(id, status.lastEventId)) return;
  status.lastEventId = id;
  context.acks.acknowledge(id);
}

async function takeRelayed(id: string, data: string, context: FrameContext): Promise<void> {
  const { options, status } = context;
  const relayed = decodeRelayEvent(data);
  if (!relayed) return options.reporter.unreadable(id);
  const taken = await takeEvent(id, relayed, options);
  const takenAt = options.clock.now();
  status.lastEvent = { id, receivedAt: relayed.receivedAt, takenAt };
  status.lagSeconds = Math.max(0, takenAt - relayed.receivedAt) / 1000;
  options.reporter.event(id, relayed, taken);
}

async function takeGapFrame(id: string, data: string, context: FrameContext): Promise<void> {
  const { options, status } = context;
  let reason = 'events were lost at the edge';
  try {
    reason = String((JSON.parse(data) as { reason?: unknown }).reason ?? reason).slice(0, 500);
  } catch {
    // the default reason
  }
  const taken = await takeGap(id, options);
  status.gaps += 1;
  status.lastGap = { at: options.clock.now(), reason };
  options.reporter.gap(id, reason, taken);
}

/** Whether `id` is past `last` in the same stream (a sync repeats the head while nothing happens). */
function isAfter(id: string, last: string | undefined): boolean {
  const next = parseEventId(id);
  const before = parseEventId(last);
  return !before || !next || next.stream !== before.stream || next.seq > before.seq;
}
