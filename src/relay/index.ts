/**
 * The relay: one public gateway (the edge) keeps the events of accepted deliveries for subscribers, and fluxgates
 * in private clusters (agents) connect out to it, take those events into their own journal and reconcile them.
 */
export { type Agent, type AgentReporter, createAgent, type UpstreamSettings, type UpstreamStatus } from './agent.ts';
export { type AgentSource, type Taken } from './agent-events.ts';
export { type ConnectionEnd } from './agent-stream.ts';
export { relayKeys, signEvent, verifyEvent } from './credentials.ts';
export { type Answer, createEdge, type Edge, type EdgeReporter, type EdgeSettings, type SubscriberStatus } from './edge.ts';
export { type StreamEnd } from './edge-stream.ts';
export { compileSubscribers, type Subscriber } from './subscribers.ts';
export { ACK_PATH, eventId, EVENTS_PATH, type Hello, parseEventId } from './wire.ts';
