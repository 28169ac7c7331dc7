/**
 * `fluxgate explain`: what a delivery would reconcile and why every other target would not — the webhook
 * path's own decision, run offline on a recorded payload (with its headers) or on a repository and ref given by
 * hand. Nothing is verified (there is no signature to check), nothing is sent.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/index.ts';
import { optionsOf } from '../provider-kit/index.ts';
import { compileProviders, type PreparedProvider, type ProviderRuntime } from '../pipeline/index.ts';
import { explainDelivery, explainEvents, type Explanation } from '../pipeline/index.ts';
import { ref as refOfName, refOf } from '../provider-kit/index.ts';
import type { Event } from '../provider-kit/index.ts';
import type { BuiltinProvider } from '../provider-kit/index.ts';
import { annotationFor, defaultApiVersion, installedInvocation, type Invocation } from '../core/index.ts';
import { loadConfigFile, type LoadedConfig, type LoadedFile } from '../app/index.ts';
import { reportConfigError } from './validate.ts';
import { explainDiscovered, type DiscoveredExplanation } from '../discovery/index.ts';
import { listObjects } from '../discovery/index.ts';
import { DISCOVERED_KINDS } from '../discovery/index.ts';
import { connectResolved } from '../kube/index.ts';
import { configPath, type CommandContext } from './command-context.ts';

export interface ExplainOptions {
  path: string;
  builtins: readonly BuiltinProvider[];
  env: Record<string, string | undefined>;
  provider?: string;
  /** A recorded delivery body and, optionally, its headers (`Name: value` lines or a JSON object). */
  payload?: string;
  headers?: string;
  /** The event, when the headers are not given (or to override them). */
  event?: string;
  repository?: string;
  branch?: string;
  tag?: string;
  ref?: string;
  /** Changed paths (`--path`, repeatable), for path filters. */
  paths?: string[];
  image?: string;
  /** Also list the kinds discovery watches from each cluster (read-only) and say which it would reconcile. */
  discovered?: boolean;
  output: 'text' | 'json';
  /** How the user ran fluxgate, for the commands the output suggests (default: the installed `fluxgate`). */
  invocation?: Invocation;
}

/** What is wrong with the arguments, or undefined. */
export function explainArgumentsProblem(options: Partial<ExplainOptions>): string | undefined {
  const byHand = options.repository !== undefined || options.image !== undefined;
  if (options.payload === undefined && !byHand) return 'give --payload FILE (a recorded delivery) or --repository R with --branch, --tag or --ref (or --image NAME)';
  if (options.payload !== undefined && byHand) return '--payload describes the delivery already: leave out --repository and --image';
  if (options.headers !== undefined && options.payload === undefined) return '--headers goes with --payload';
  if (options.repository !== undefined && [options.branch, options.tag, options.ref].filter((value) => value !== undefined).length !== 1) return '--repository needs exactly one of --branch, --tag or --ref';
  return undefined;
}

/** Headers as curl -D writes them (`Name: value` lines, an optional status line) or as a JSON object. */
export function parseHeaderFile(text: string): Headers {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return new Headers(Object.entries(JSON.parse(trimmed) as Record<string, unknown>).map(([name, value]) => [name, String(value)]));
  const headers = new Headers();
  for (const line of trimmed.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || /^HTTP\//.test(line)) continue;
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return headers;
}

/**
 * The config with its providers prepared: fully (secrets resolved, as serve would) when it loads, else from the
 * file alone — explain needs no secret, so a machine without them can still explain; the note says so.
 */
async function loadForExplain(options: ExplainOptions): Promise<{ loaded: LoadedConfig | LoadedFile; prepared: Map<string, PreparedProvider>; note?: string }> {
  try {
    // As dry-run (placeholder secrets accepted, no cluster needed), unless the clusters are to be read.
    const loaded = await loadConfigFile({ path: options.path, builtins: options.builtins, env: options.env, dryRun: !options.discovered });
    return { loaded, prepared: loaded.providers };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const loaded = await loadConfigFile({ path: options.path, builtins: options.builtins, env: options.env, fileOnly: true });
    const prepared = new Map(
      loaded.config.providers.flatMap((provider) => {
        const codec = loaded.catalog.get(provider.type);
        return codec ? [[provider.name, { codec, options: optionsOf(codec, provider.options), key: undefined, verifies: false }] as const] : [];
      }),
    );
    return { loaded, prepared, note: `secrets, TLS files or the kubeconfig did not load (${error.count} ${error.count === 1 ? 'problem' : 'problems'}: run ${(options.invocation ?? installedInvocation).command(`validate ${options.path}`)}); explained without them` };
  }
}

function byHandEvents(options: ExplainOptions, provider: ProviderRuntime): Event[] {
  const event = options.event ?? provider.codec.defaultEvents.find((name) => name !== 'ping') ?? 'push';
  if (options.image !== undefined) {
    const at = options.image.lastIndexOf(':');
    const tagged = at > options.image.lastIndexOf('/') ? { name: options.image.slice(0, at), tag: options.image.slice(at + 1) } : { name: options.image };
    return [{ event, repositories: [], image: tagged, ...(tagged.tag ? { tag: tagged.tag } : {}) }];
  }
  const ref = options.ref !== undefined ? refOfName(options.ref) : options.tag !== undefined ? refOf('tag', options.tag) : refOf('branch', options.branch!);
  return [{ event, repositories: [options.repository!], ...ref, ...(options.paths && options.paths.length > 0 ? { changedPaths: options.paths } : {}) }];
}

/** Lists what discovery would watch, from each cluster, and explains the events against it. */
async function explainFromClusters(loaded: LoadedConfig, events: readonly Event[]): Promise<DiscoveredExplanation> {
  const { config } = loaded;
  const kinds = (config.discovery.kinds ?? DISCOVERED_KINDS).map((kind) => ({ apiVersion: defaultApiVersion(kind)!, kind }));
  const targets = loaded.clusters ?? [{ name: undefined, kube: loaded.kube }];
  const listed = await Promise.all(
    targets.map(async (target) => {
      const connection = await connectResolved(target.kube, { timeoutMs: config.kubernetes.requestTimeout });
      const objects = connection.mode === 'dry-run' ? [] : await listObjects(connection.client.api, kinds, config.discovery.namespaces);
      return { ...(target.name !== undefined ? { cluster: target.name } : {}), objects };
    }),
  );
  return explainDiscovered({ events }, listed);
}

function renderDiscovered(discovered: DiscoveredExplanation): string[] {
  const where = (object: { cluster?: string }) => (object.cluster !== undefined ? `${object.cluster}: ` : '');
  const lines = [`discovered (listed from the clusters): ${discovered.reconcile.length} would be reconciled`];
  for (const object of discovered.reconcile) lines.push(`  ✓ ${where(object)}${object.object} — ${object.why}`);
  if (discovered.nearMisses.length > 0) lines.push('near misses:');
  for (const object of discovered.nearMisses) lines.push(`  ✗ ${where(object)}${object.object}: ${object.why}`);
  return lines;
}

function render(provider: ProviderRuntime, explanation: Explanation, note: string | undefined): string[] {
  const lines: string[] = [];
  if (note) lines.push(`note: ${note}`);
  const event = explanation.event;
  const facts = [
    `provider ${provider.name} (${provider.type})`,
    ...(event ? [`event ${event.event}`] : []),
    ...(event?.repositories.length ? [`repository ${event.repositories[0]}`] : []),
    ...(event?.image ? [`image ${event.image.name}${event.image.tag ? `:${event.image.tag}` : ''}`] : []),
    ...(event?.ref ? [`ref ${event.ref}`] : []),
    ...(event && event.changedPaths !== undefined ? [`${event.changedPaths.length} changed path${event.changedPaths.length === 1 ? '' : 's'}`] : []),
  ];
  lines.push(facts.join(' · '));
  if (explanation.reason !== undefined) {
    lines.push(`${explanation.decision === 'malformed' ? 'refused (400)' : 'ignored (200)'}: ${explanation.reason}`);
    return lines;
  }
  const matched = explanation.targets.filter((target) => target.matched);
  const missed = explanation.targets.filter((target) => !target.matched);
  if (explanation.targets.length === 0) lines.push(`no target uses provider ${provider.name}`);
  if (matched.length > 0) {
    lines.push(`would reconcile (${matched.length} ${matched.length === 1 ? 'target' : 'targets'}):`);
    for (const target of matched) lines.push(`  ✓ ${target.target} → ${target.objects.join(', ')}`);
  }
  if (missed.length > 0) {
    lines.push(matched.length > 0 ? 'would not:' : 'would reconcile nothing:');
    for (const target of missed) lines.push(`  ✗ ${target.target}: ${target.reason}`);
  }
  return lines;
}

/** Runs the command; 0 when it explained, 1 for config problems, 2 for arguments it cannot use. */
export async function runExplain(options: ExplainOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  let context;
  try {
    context = await loadForExplain(options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportConfigError(error, err);
    return 1;
  }
  const { loaded, prepared, note } = context;
  const providers = compileProviders(loaded.config, prepared, { defaultApiVersion, annotationFor });
  const names = [...providers.keys()];
  const name = options.provider ?? (names.length === 1 ? names[0] : undefined);
  const provider = name === undefined ? undefined : providers.get(name);
  if (!provider) {
    err(name === undefined ? `error: --provider NAME is needed: the config has ${names.join(', ')}` : `error: no provider "${name}" in ${options.path} (it has ${names.join(', ')})`);
    return 2;
  }

  let explanation: Explanation;
  let events: readonly Event[] = [];
  if (options.payload !== undefined) {
    const body = new Uint8Array(readFileSync(options.payload));
    const headers = options.headers !== undefined ? parseHeaderFile(readFileSync(options.headers, 'utf8')) : new Headers({ 'content-type': 'application/json' });
    const described = provider.codec.describe(headers);
    if (options.event === undefined && described.event === '') {
      err(`error: type ${provider.type} names the event in a header: give --headers FILE (as recorded) or --event NAME`);
      return 2;
    }
    const info = options.event !== undefined ? { ...described, event: options.event, ping: options.event === 'ping' } : described;
    try {
      const explained = explainDelivery(provider, { body, headers }, info);
      explanation = explained.explanation;
      events = explained.events;
    } catch (error) {
      err(`error: type ${provider.type} could not read the payload without its secret (${(error as Error).message}); run explain where the provider's secrets are set`);
      return 1;
    }
  } else {
    events = byHandEvents(options, provider);
    explanation = explainEvents(provider, events);
  }

  let discovered: DiscoveredExplanation | undefined;
  if (options.discovered) {
    if (!('kube' in loaded) || !loaded.config.discovery.enabled) {
      err(`error: --discovered needs discovery: { enabled: true } in ${options.path}${note ? ` and the config to load fully (${note})` : ''}`);
      return 2;
    }
    try {
      discovered = await explainFromClusters(loaded, explanation.reason === undefined ? events : []);
    } catch (error) {
      err(`error: could not list what discovery watches: ${(error as Error).message}`);
      return 1;
    }
  }

  if (options.output === 'json') out(JSON.stringify({ provider: provider.name, type: provider.type, ...(note ? { note } : {}), ...explanation, ...(discovered ? { discovered } : {}) }, null, 2));
  else for (const line of [...render(provider, explanation, note), ...(discovered ? renderDiscovered(discovered) : [])]) out(line);
  return 0;
}

export interface ExplainFlags {
  config?: string;
  provider?: string;
  payload?: string;
  headers?: string;
  event?: string;
  repository?: string;
  branch?: string;
  tag?: string;
  ref?: string;
  path?: string[];
  image?: string;
  discovered?: boolean;
  output: 'text' | 'json';
}

/** `fluxgate explain` from its command line (`--path` is repeatable: the delivery's changed paths). */
export async function explainCommand(flags: ExplainFlags, context: CommandContext): Promise<number> {
  const path = configPath(context, flags.config);
  const { path: paths, config: _config, ...rest } = flags;
  const options = { ...rest, paths, path, builtins: await context.builtins(), env: context.io.env, invocation: context.invocation };
  const problem = explainArgumentsProblem(options);
  if (problem !== undefined) context.usage(problem);
  return runExplain(options, context.io.out, context.io.err);
}
