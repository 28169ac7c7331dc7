/**
 * `cdevents`: CDEvents carried by CloudEvents over HTTP (Flux's `cdevents` Receiver type).
 *
 * - Binary mode: the CloudEvents context in `ce-type`, `ce-id`, `ce-source`… headers, the CDEvent as the body.
 *   Structured mode (`Content-Type: application/cloudevents+json`): the same attributes and the CDEvent (`data`)
 *   in one JSON body; then only the body names the event and the delivery id (the envelope's `id`).
 * - Event names drop the version (`dev.cdevents.change.merged.0.3.0` → `dev.cdevents.change.merged`), so `events`
 *   survive spec upgrades. Only a merged change is a code change; other CDEvents are answered 200 (ignored).
 * - verify (when a secret is set; else `allowUnsigned: true`, as Flux's receiver checks nothing): `X-Signature:
 *   sha256|sha1|sha512=<hex>` over the body, as `generic-hmac`. The unsigned headers must agree with the signed
 *   CDEvent context (`ce-type` = `context.type`, `ce-id` = `context.id`), so a replay cannot rename either.
 * - parse: `subject.content.repository` `{ id, source }` → `id` (`org/repo`) and `source/id` when `source` names a
 *   host (none when the change names no repository: only targets without `repository` match). A change event
 *   names no branch, commit or changed paths: targets with `branches`/`tags` never match it.
 */
import type { ProviderCodec } from '../../src/provider-kit/index.ts';
import type { ProviderFactory } from '../../src/provider-kit/index.ts';
import type { PayloadReader, ProviderKit } from '../../src/provider-kit/index.ts';

const SIGNATURE = { header: 'X-Signature', algorithms: ['sha256', 'sha1', 'sha512'], prefixed: true } as const;
const MERGED = 'dev.cdevents.change.merged';
/** A trailing semantic version: `.0.3.0`, `.0.2.0-draft`. */
const VERSION = /\.\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;
const STRUCTURED = 'application/cloudevents+json';

/** The event name users list: the CloudEvents type without its version (a header: long ones are left alone). */
const eventName = (type: string): string => (type.length <= 200 ? type.replace(VERSION, '') : type);

const cdevents: ProviderFactory = (kit) => ({
  id: 'cdevents',
  defaultEvents: [MERGED],
  secretFields: ['secret'],
  describe(headers) {
    const type = headers.get('ce-type');
    return type === null ? {} : { event: eventName(type), deliveryId: headers.get('ce-id') || undefined };
  },
  verify: (request, secrets) => kit.hmacHeader.verify(request, SIGNATURE, secrets.secret),
  parse(request) {
    const body = kit.read(kit.json(request.body));
    const structured = request.headers.get('content-type')?.toLowerCase().startsWith(STRUCTURED) ?? false;
    const cdevent = structured ? body.object('data') : body;
    const context = cdevent.object('context');
    const type = context.string('type');
    const claimed: [string, string | null][] = structured
      ? [['type', body.string('type')], ['id', body.string('id')]]
      : [['type', request.headers.get('ce-type')], ['id', request.headers.get('ce-id')]];
    for (const [field, value] of claimed) {
      if (value !== null && value !== context.string(field)) throw new kit.PayloadError(`${structured ? '' : 'ce-'}${field} and context.${field} disagree`);
    }
    const event = eventName(type);
    if (event !== MERGED) return kit.ignore(`CDEvent ${kit.printable(event) ? `${event} ` : ''}is not a merged change`);
    const repository = cdevent.object('subject').object('content').optionalObject('repository');
    // In structured mode only the body carries the id (binary mode's ce-id header is describe's).
    const deliveryId = structured ? kit.printable(body.string('id')) : undefined;
    return { events: [{ event, repositories: repository ? repositoriesOf(kit, repository) : [] }], ...(deliveryId && { deliveryId }) };
  },
  sign: (body, { secret }) => ({ 'X-Signature': kit.hmacHeader.sign(SIGNATURE, secret!, body) }),
}) satisfies ProviderCodec;

/** `{ id: 'org/repo', source: 'https://git.example' }` → `org/repo`, `https://git.example/org/repo`. */
function repositoriesOf(kit: ProviderKit, repository: PayloadReader): string[] {
  const id = repository.string('id').replace(/^\/+/, '');
  const given = repository.optionalString('source');
  const source = given === undefined ? undefined : kit.trimTrailing(given, '/');
  // `source` is where `id` is unique: a host (`my-git.example`, `https://git.example`), not a path.
  const hosted = id && source && !source.startsWith('/') && !id.includes('://') ? [`${source}/${id}`] : [];
  return id ? [id, ...hosted] : [];
}
export default cdevents;
