/**
 * Following: after a delivery's patches, each patched object and the Flux objects that use it as their source are
 * watched (informers shared with discovery) until the pushed commit is applied or the timeout passes; each stage is
 * timed, recorded, and reported on the commit with the credentials `register` uses.
 */
export { DEFAULT_CLUSTER, contextOf, duration, hostRepository } from './commit-statuses.ts';
export { createFeedback, type Feedback, type FeedbackOptions } from './feedback.ts';
export { type FollowReporter, type FollowView } from './follower.ts';
export { namesCommit } from './revision.ts';
export { statusRoutes, type StatusRoutes } from './status-routes.ts';
export { createStatusWriter, type StatusRoute, type StatusWriter, type StatusWriterReporter } from './status-writer.ts';
