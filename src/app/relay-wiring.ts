/**
 * The relay in the composition root: the edge (`relay:`) on the store's relay log, with its metrics and its
 * subscribers following reloads; the agent (`upstream:`) on the journal, the targets that name its upstream (as
 * the served config has them) and discovery.
 */
import { annotationFor, defaultApiVersion, type Clock, type Logger } from '../core/index.ts';
import type { Discovery } from '../discovery/index.ts';
import { agentMetrics, createAgentReporter, createEdgeReporter, edgeMetrics, type Metrics } from '../observe/index.ts';
import { compileSourceTargets, type Acceptor } from '../pipeline/index.ts';
import { compileSubscribers, createAgent, createEdge, type Agent, type AgentSource, type Edge, type EdgeSettings } from '../relay/index.ts';
import type { DeliveryLog, RelayLog } from '../store/index.ts';
import type { LoadedConfig } from './load-config.ts';

/** Seconds an agent refused for capacity waits (Retry-After), as for webhooks. */
const RETRY_AFTER_SECONDS = 5;

/** The edge's subscribers and limits of a loaded config (which has `relay:`). */
export function edgeSettings(loaded: LoadedConfig): EdgeSettings {
  const relay = loaded.config.relay!;
  return {
    subscribers: compileSubscribers(relay, loaded.relayTokens ?? new Map()),
    limits: { maxBufferedBytes: relay.maxBufferedBytes, heartbeatMs: relay.heartbeat, stallTimeoutMs: relay.stallTimeout, maxConnectionsPerSubscriber: relay.maxConnectionsPerSubscriber, maxEventBytes: relay.maxEventSize },
  };
}

/**
 * @example
 * const edge = startEdge({ loaded, log: store.relay, metrics, logger, clock });
 * edge.configure(edgeSettings(next)); // a reload
 */
export function startEdge(parts: { loaded: LoadedConfig; log: RelayLog; metrics: Metrics; logger: Logger; clock: Clock }): Edge {
  let edge: Edge | undefined;
  const reporter = createEdgeReporter(edgeMetrics(parts.metrics, { subscribers: () => edge?.status() ?? [], store: () => parts.log.size() }), parts.logger);
  parts.log.follow((records) => reporter.published(records));
  edge = createEdge({ log: parts.log, settings: edgeSettings(parts.loaded), clock: parts.clock, logger: parts.logger, reporter, retryAfterSeconds: RETRY_AFTER_SECONDS });
  return edge;
}

export interface AgentParts {
  loaded: LoadedConfig;
  /** The config served now: its targets that name the upstream are matched (a reload changes them). */
  current(): LoadedConfig;
  journal: Acceptor;
  discovery?: Discovery;
  deliveries: DeliveryLog;
  accepting(): boolean;
  ready(): Promise<boolean>;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  random?: () => number;
}

/** @example const agent = startAgent(parts); agent.start(); */
export function startAgent(parts: AgentParts): Agent {
  const upstream = parts.loaded.config.upstream!;
  const resolved = parts.loaded.upstream!;
  // Compiled once per served config: the targets naming the upstream, indexed as a provider's are.
  const sources = new WeakMap<LoadedConfig, AgentSource>();
  const source = () => {
    const loaded = parts.current();
    let compiled = sources.get(loaded);
    if (!compiled) sources.set(loaded, (compiled = { name: upstream.name, targets: compileSourceTargets(loaded.config, upstream.name, { defaultApiVersion, annotationFor }, loaded.matchCompiler) }));
    return compiled;
  };
  let agent: Agent | undefined;
  const reporter = createAgentReporter(agentMetrics(parts.metrics, () => agent?.status() ?? { state: 'stopped' }), parts.logger, parts.deliveries, upstream.name, () => parts.clock.now());
  agent = createAgent({
    settings: { url: upstream.url, token: resolved.token, ...(resolved.caPem ? { caPem: resolved.caPem } : {}), reconnect: upstream.reconnect },
    journal: parts.journal,
    source,
    ...(parts.discovery ? { discover: parts.discovery.find, everything: parts.discovery.everything } : {}),
    accepting: parts.accepting,
    ready: parts.ready,
    clock: parts.clock,
    random: parts.random ?? Math.random,
    reporter,
  });
  return agent;
}
