/**
 * One Receiver → one provider with one target (its resources), so the whole webhook path applies to it: the
 * async answer, dedupe, debounce, retries, metrics and the delivery log. A pure function of the Receiver, its
 * Secret's data and the catalog: the watcher calls it again whenever any of them changes.
 *
 * The provider's name (metrics, logs, the delivery log) is `receiver/<namespace>/<name>`: bounded by the cluster's
 * Receivers and never secret. Its route is the hashed path, which is.
 *
 * A Receiver with a resourceFilter gets a target whose selectors carry the filter bound to each delivery's body:
 * the target index is asked for the delivery's targets with the events its codec just parsed, finds the body
 * kept for them (receiver-codec.ts), and hands reconcile/ selectors that read their objects and filter them —
 * all of a delivery's selectors in one job of the CEL evaluator (cel-evaluator.ts), off the main thread.
 */
import type { Catalog } from '../provider-kit/index.ts';
import { compileSelector, type CompiledTarget, type ProviderRuntime } from '../pipeline/index.ts';
import { compileMatch } from '../pipeline/index.ts';
import type { Event, ProviderCodec } from '../provider-kit/index.ts';
import type { ProviderSecrets } from '../config/index.ts';
import type { TargetIndex } from '../pipeline/index.ts';
import { optionsOf } from '../provider-kit/index.ts';
import { annotationFor, defaultApiVersion } from '../core/index.ts';
import type { FilterVerdict, ObjectFilter, ObjectSelector } from '../core/index.ts';
import type { CelEvaluator } from './cel-evaluator.ts';
import type { CompiledFilter, FilterCompiler } from './cel-filter.ts';
import type { FilterJob } from './cel-jobs.ts';
import { codecsOf, FLUX_TYPES } from './flux-types.ts';
import { oidcReceiverCodec } from './oidc-receiver.ts';
import { receiverCodec, type DeliveryContext, type ReceiverCodec } from './receiver-codec.ts';
import type { ReceiverSpec } from './receiver-spec.ts';
import { receiverPath } from './webhook-path.ts';

/** The Receiver's Secret as last read: its data (decoded), or why it cannot be used. */
export type SecretState = { data: Readonly<Record<string, string>> } | { problem: string };

/** Why a Receiver is not ready, as the reason of Flux's Ready condition spells it. */
export type NotReadyCode = 'TokenNotFound' | 'InvalidCELExpression' | 'ValidationFailed';

/** What fluxgate makes of one Receiver. */
export type ReceiverServing =
  /** Served at `path`; `runtime` answers 503 when the Receiver is suspended or cannot be served as written. */
  | { path: string; runtime: ProviderRuntime; ready: true; reason: string }
  | { path: string; runtime: ProviderRuntime; ready: false; reason: string; code: NotReadyCode }
  /** No path can be worked out (the Secret or its token is missing): nothing is served, as in Flux. */
  | { path?: undefined; ready: false; reason: string; code: NotReadyCode };

export interface ServingInput {
  spec: ReceiverSpec;
  /** Undefined for generic-oidc (no Secret). */
  secret?: SecretState;
  catalog: Catalog;
  filters: FilterCompiler;
  /** Where the Receiver's CEL runs (filters, OIDC rules): one per watcher, shared by its Receivers. */
  evaluator: CelEvaluator;
  /** With `clusters:`, the cluster the Receiver was read from: its resources are that cluster's, not the fleet's. */
  cluster?: string;
  /** `fluxReceivers.strict`: deliveries read as fluxgate's providers read them (a Receiver's annotation wins). */
  strict?: boolean;
}

/** The metrics and log name of a Receiver's provider. */
export function receiverProviderName(namespace: string, name: string): string {
  return `receiver/${namespace}/${name}`;
}

/** The Receiver's filters per resource: `resourceFilter` stacked with the resource's own `filter`. */
function compileFilters(spec: ReceiverSpec, filters: FilterCompiler): CompiledFilter[][] | string {
  const scope = { claims: spec.type === 'generic-oidc' };
  const compiled = new Map<string, CompiledFilter>();
  const compile = (expression: string, at: string): CompiledFilter | string => {
    const cached = compiled.get(expression);
    if (cached) return cached;
    const result = filters.compile(expression, scope);
    if ('problem' in result) return `${at}: ${result.problem}`;
    compiled.set(expression, result);
    return result;
  };
  const top = spec.resourceFilter !== undefined ? compile(spec.resourceFilter, 'resourceFilter') : undefined;
  if (typeof top === 'string') return top;
  const perResource: CompiledFilter[][] = [];
  for (const [index, resource] of spec.resources.entries()) {
    const own = resource.filter !== undefined ? compile(resource.filter, `resources[${index}].filter`) : undefined;
    if (typeof own === 'string') return own;
    perResource.push([top, own].filter((filter): filter is CompiledFilter => filter !== undefined));
  }
  return perResource;
}

/** A selector's call waiting for its delivery's job. */
interface Batched {
  list: FilterJob['lists'][number];
  resolve(verdicts: FilterVerdict[] | { error: string }): void;
}

/**
 * One delivery's filters, a filter per selector (undefined: a selector without one). Calls made in one turn are
 * one job of the evaluator; the steps a job took are carried to the next, DELIVERY_STEPS being per delivery.
 */
function deliveryFilters(filters: readonly CompiledFilter[][], context: DeliveryContext | undefined, evaluator: CelEvaluator): (ObjectFilter | undefined)[] {
  let batch: Batched[] = [];
  let stepsSpent = 0;
  async function flush(input: DeliveryContext): Promise<void> {
    const taken = batch;
    batch = [];
    const answer = await evaluator.filter({ req: input.req, ...(input.claims ? { claims: input.claims } : {}), lists: taken.map((entry) => entry.list), stepsSpent });
    if ('failed' in answer) {
      for (const entry of taken) entry.resolve({ error: answer.failed });
      return;
    }
    stepsSpent = answer.stepsSpent;
    taken.forEach((entry, index) => entry.resolve(answer.verdicts[index]!));
  }
  return filters.map((list) => {
    if (list.length === 0) return undefined;
    return {
      accepts(objects) {
        if (context === undefined) return Promise.resolve({ error: 'the delivery kept no body for the filter' });
        return new Promise((resolve) => {
          if (batch.length === 0) queueMicrotask(() => void flush(context));
          batch.push({ list: { filters: [...list], objects: [...objects] }, resolve });
        });
      },
    };
  });
}

/** The Receiver's one target, its selectors bound to each delivery's body when it has filters. */
function targetIndex(name: string, selectors: ObjectSelector[], filters: CompiledFilter[][], codec: ReceiverCodec, evaluator: CelEvaluator): TargetIndex<CompiledTarget> {
  // No repository or branch filter: Flux reconciles the resources for any verified delivery (deletions aside).
  const target: CompiledTarget = { name, match: compileMatch(undefined), selectors, keys: [] };
  const filtered = filters.some((list) => list.length > 0);
  return {
    size: 1,
    all: [target],
    candidates(events: readonly Event[]) {
      if (!filtered) return { targets: [target], others: 0 };
      const context = events[0] === undefined ? undefined : codec.contextOf(events[0]);
      const bound = deliveryFilters(filters, context, evaluator);
      return { targets: [{ ...target, selectors: selectors.map((selector, index) => (bound[index] ? { ...selector, filter: bound[index] } : selector)) }], others: 0 };
    },
  };
}

/** The token (the path's salt) and the Secret's data, or why the Receiver has no path. */
function tokenOf(spec: ReceiverSpec, secret: SecretState | undefined): { token: string; data: Readonly<Record<string, string>> } | string {
  if (spec.type === 'generic-oidc') return { token: '', data: {} };
  const where = `Secret ${spec.namespace}/${spec.secretName}`;
  if (secret === undefined) return `${where} not read yet`;
  if ('problem' in secret) return secret.problem;
  if (secret.data.token === undefined) return `${where} has no token key`;
  return { token: secret.data.token, data: secret.data };
}

/** The provider's codec, options and key, or why the Receiver cannot be served as written. */
function providerOf(
  spec: ReceiverSpec,
  token: string,
  data: Readonly<Record<string, string>>,
  input: ServingInput,
  readsRequest: boolean,
): { codec: ReceiverCodec; options: unknown; key: unknown; verifies: boolean } | { problem: string; code: NotReadyCode } {
  if (spec.type === 'generic-oidc') {
    // Its only problems are expressions its oidcProviders hold.
    const made = oidcReceiverCodec(spec.oidcProviders, input.filters, input.evaluator, { readsRequest });
    return typeof made === 'string' ? { problem: made, code: 'InvalidCELExpression' } : made;
  }
  const type = FLUX_TYPES[spec.type]!;
  const codecs = codecsOf(type, input.catalog);
  if ('missing' in codecs) return { problem: `no codec "${codecs.missing}" for type ${spec.type}`, code: 'ValidationFailed' };
  const configured = type.options?.(data);
  if (typeof configured === 'string') return { problem: configured, code: 'ValidationFailed' };
  const options = optionsOf(codecs.primary, configured);
  const secrets: ProviderSecrets = type.token === 'secret' ? { secret: token } : {};
  try {
    const key = codecs.primary.prepare ? codecs.primary.prepare(secrets, options) : secrets;
    const strict = spec.strict ?? input.strict ?? false;
    return { codec: receiverCodec(type, codecs, spec.events, { readsRequest, strict }), options, key, verifies: type.token === 'secret' || codecs.primary.keyless === true };
  } catch {
    // A codec's reason may quote what it refused, which came from the Secret.
    return { problem: `the ${spec.type} codec refuses the Secret's values`, code: 'ValidationFailed' };
  }
}

/** The Receiver's selectors; a filtered one keeps its own key (two entries for one object may filter differently). */
function selectorsOf(spec: ReceiverSpec, name: string, filters: CompiledFilter[][] | undefined, cluster: string | undefined): ObjectSelector[] {
  const clusters = cluster === undefined ? undefined : [cluster];
  return spec.resources.map((resource, index) => {
    const { apiVersion, kind, namespace, name: object, matchLabels } = resource;
    const selector = compileSelector({ apiVersion, kind, namespace, ...(object !== undefined ? { name: object } : { matchLabels }) }, { defaultApiVersion, annotationFor }, clusters);
    return filters?.[index]?.length ? { ...selector, key: `${selector.key}#${name}#${index}`, label: `${selector.label} (filtered)` } : selector;
  });
}

/**
 * A provider at the Receiver's path that answers every delivery 503 with Retry-After before reading it (a
 * "retryable" verification failure), as Flux answers for a suspended or failed Receiver.
 */
function unavailableRuntime(spec: ReceiverSpec, name: string, path: string, reason: string): ProviderRuntime {
  const codec: ProviderCodec<unknown> = { id: spec.type, defaultEvents: [], secretFields: [], describe: () => ({}), verify: () => ({ ok: false, reason, retryable: true }), parse: () => ({ events: [] }), sign: () => ({}) };
  const target: CompiledTarget = { name, match: compileMatch(undefined), selectors: [], keys: [] };
  return {
    codec,
    options: undefined,
    key: undefined,
    verifies: true,
    name,
    type: spec.type,
    route: path,
    events: new Set(),
    targets: { size: 1, all: [target], candidates: () => ({ targets: [target], others: 0 }) },
  };
}

/**
 * @example
 * const serving = receiverServing({ spec, secret: { data: { token: 's3cr3t' } }, catalog, filters });
 * if (serving.path) routes.replace('receivers', [serving.runtime]);
 */
export function receiverServing(input: ServingInput): ReceiverServing {
  const { spec } = input;
  const name = receiverProviderName(spec.namespace, spec.name);
  const secret = tokenOf(spec, input.secret);
  if (typeof secret === 'string') return { ready: false, reason: secret, code: 'TokenNotFound' };
  const path = receiverPath(secret.token, spec.name, spec.namespace);
  const filters = compileFilters(spec, input.filters);
  // The reason is the status page's and the log's; the sender is told only that the Receiver is not ready.
  const refused = (reason: string, code: NotReadyCode): ReceiverServing => ({ path, runtime: unavailableRuntime(spec, name, path, 'the Receiver is not ready'), ready: false, reason, code });
  if (typeof filters === 'string') return refused(filters, 'InvalidCELExpression');
  const provider = providerOf(spec, secret.token, secret.data, input, filters.some((list) => list.length > 0));
  if ('problem' in provider) return refused(provider.problem, provider.code);
  // Flux keeps a suspended Receiver's Ready condition as it was: suspension is not a fault.
  if (spec.suspend) return { path, runtime: unavailableRuntime(spec, name, path, 'the Receiver is suspended'), ready: true, reason: 'suspended' };
  const runtime: ProviderRuntime = {
    codec: provider.codec.codec,
    options: provider.options,
    key: provider.key,
    verifies: provider.verifies,
    name,
    type: spec.type,
    route: path,
    events: provider.codec.events,
    ...(provider.codec.anyEvent ? { anyEvent: true } : {}),
    targets: targetIndex(name, selectorsOf(spec, name, filters, input.cluster), filters, provider.codec, input.evaluator),
  };
  // A Receiver with CEL to run has the evaluator's worker started now rather than at its first delivery.
  if (filters.some((list) => list.length > 0) || spec.oidcProviders.some((entry) => entry.variables.length + entry.validations.length > 0)) input.evaluator.warm();
  return { path, runtime, ready: true, reason: 'served by fluxgate' };
}
