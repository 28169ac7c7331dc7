/**
 * Harbor webhooks (project → Webhooks), in either payload format.
 *
 * - verify: Harbor signs nothing; it sends the policy's "Auth Header" verbatim as `Authorization`, which must equal
 *   the configured `secret` (as Flux's and Argo CD's Harbor receivers check). The header authenticates the sender,
 *   not the bytes.
 * - describe: no header names the event; the body does (`type`), so events are named in `parse`.
 * - parse: Default format `{type, event_data}`, or CloudEvents structured mode `{specversion, type, data}` whose
 *   `harbor.artifact.*` types are named like the Default ones, so one `events:` list serves both formats. One event
 *   per `event_data.resources[]` entry; the push time from `occur_at` (or the CloudEvent's `time`). A resource pushed by digest (replication) has its digest as `tag`: no tag.
 */
import type { ProviderFactory } from '../../src/provider-kit/index.ts';

/** Harbor's event types about artifacts, and the CloudEvents types Harbor maps them to (a Map: `constructor` is no type). */
const EVENTS = new Map([
  ['PUSH_ARTIFACT', 'PUSH_ARTIFACT'],
  ['DELETE_ARTIFACT', 'DELETE_ARTIFACT'],
  ['harbor.artifact.pushed', 'PUSH_ARTIFACT'],
  ['harbor.artifact.deleted', 'DELETE_ARTIFACT'],
]);


const harbor: ProviderFactory = (kit) => ({
  id: 'harbor',
  defaultEvents: ['PUSH_ARTIFACT'],
  secretFields: ['secret'],
  describe: () => ({}),
  verify: (request, { secret }) => kit.headerToken(request, 'Authorization', secret),
  parse(request) {
    const payload = kit.read(kit.json(request.body));
    const cloudEvent = payload.has('specversion');
    const type = payload.string('type');
    const event = EVENTS.get(type);
    if (event === undefined) return kit.ignore(`Harbor event ${kit.printable(type) ?? '(unnamed)'} is not about a pushed or deleted artifact`);
    const data = payload.object(cloudEvent ? 'data' : 'event_data');
    const fullName = data.object('repository').string('repo_full_name');
    const resources = data.objects('resources', kit.limits.events);
    const pushedAt = harborTime(payload, cloudEvent);
    if (resources.length === 0) return kit.ignore(`${event} names no artifact`);
    const events = resources.map((resource) => {
      const digest = resource.optionalString('digest');
      const given = resource.optionalString('tag');
      const tag = given !== undefined && kit.oci.isTag(given) ? given : undefined;
      // `<registry host>/<repo_full_name>:tag` or `…@digest` without the reference (a `:port` is followed by `/`).
      const url = kit.oci.withoutReference(resource.optionalString('resource_url') ?? '');
      const name = url.endsWith(`/${fullName}`) ? url : fullName;
      return { ...kit.imageEvent(event, { name, tag, digest }, event === 'DELETE_ARTIFACT'), ...pushedAt };
    });
    // CloudEvents carry an id (a UUID per event, the same when Harbor retries); the Default format has none.
    const deliveryId = cloudEvent ? kit.printable(payload.optionalString('id') ?? '') : undefined;
    return { events, ...(deliveryId && { deliveryId }) };
  },
  sign: (_body, { secret }) => ({ Authorization: secret! }),
});

/** The event's own time: `occur_at` (epoch seconds) in the Default format, `time` (RFC 3339) in CloudEvents; read as is. */
function harborTime(payload: { value: Readonly<Record<string, unknown>> }, cloudEvent: boolean): { pushedAt?: number } {
  const raw = cloudEvent ? payload.value.time : payload.value.occur_at;
  const ms = typeof raw === 'number' ? raw * 1000 : typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
  return Number.isFinite(ms) && ms > 0 ? { pushedAt: ms } : {};
}

export default harbor;
