/**
 * The vocabulary every layer shares (a ticket, a selector, the kinds fluxgate reconciles) and the small tools
 * they all use: clock and backoff, log, globs, constant-time compare, addresses, bounded file reads, pinned fetch.
 */
export { backoffDelay, type RetryPolicy } from './backoff.ts';
export { type Clock, delay, systemClock } from './clock.ts';
export { compileGlob, isGlobPattern } from './glob.ts';
export { installedInvocation, type Invocation, invocationOf, invocationOfProcess } from './invocation.ts';
export { ipFamily, isAddressBlock, newBlockList } from './ip.ts';
export { annotationFor, createRequestedAtClock, defaultApiVersion, KNOWN_KINDS, type ReconcileAnnotation, REQUESTED_AT_ANNOTATION } from './kinds.ts';
export { chooseLogFormat, createLogger, type LogFormat, type Logger, type LogLevel } from './log.ts';
export { OutboundRefusal, pinnedFetch, shownUrl } from './pinned-fetch.ts';
export { notRegular, readBounded, readFailure, readRegularFile, readRegularText } from './read-regular-file.ts';
export { type PushInstant, pushInstant } from './push-time.ts';
export { redactUrl } from './redact-url.ts';
export { safeEqual } from './safe-equal.ts';
export { type FilterVerdict, type ObjectFilter, type ObjectSelector } from './selector.ts';
export { cutOptional, cutText, escapedCharacter, UNSAFE_CHARACTERS } from './shown-text.ts';
export { isTerminal } from './terminal.ts';
export { type Ticket, type TicketCause } from './ticket.ts';
export { fluxgateVersion } from './version.ts';
export { workerUrl } from './worker-url.ts';
