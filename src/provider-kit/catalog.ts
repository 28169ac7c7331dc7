/**
 * The provider types a config may use: the built-in ones the composition root hands in, plus, when `pluginsDir`
 * is set, one provider per `.ts`/`.js` file there, loaded the same way (a default export `(kit) => ProviderCodec`).
 * A built-in type also brings its sample for `fluxgate send` and, where its host keeps webhooks, its registration.
 * Nothing here names a concrete provider.
 *
 * A plugin runs with fluxgate's rights, so the directory and each file must be writable only by their owner, who
 * must be fluxgate's user or root (plugin-access.ts). A new or changed file is first loaded in a Worker under a
 * time limit (plugin-trial.ts), and imported on the main thread only once that load has finished. A load
 * triggered by a file watch does not load new code at all: it keeps the plugins already loaded and lists the
 * files that differ (`pending`), for a SIGHUP to load.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MAX_PLUGIN_FILE_BYTES } from '../config/index.ts';
import type { ProviderKit } from './kit.ts';
import { readFailure, readRegularFile } from '../core/index.ts';
import { processUid, unsafeAccess } from './plugin-access.ts';
import { PLUGIN_LOAD_TIMEOUT_MS, trialLoad } from './plugin-trial.ts';
import type { ProviderCodec } from './contract.ts';
import type { ProviderFactory } from './kit.ts';
import type { CommitStatuses } from './commit-status.ts';
import type { Registration } from './registration.ts';
import type { Sample } from './sample.ts';

/**
 * A provider compiled into fluxgate: what the face of its folder (plugins/<type>/index.ts) exports. The folder's
 * name is the codec's id.
 */
export interface BuiltinProvider {
  /** The codec's factory, as a runtime plugin file default-exports it. */
  default: ProviderFactory;
  /** The delivery `fluxgate send` posts for this type. */
  sample: Sample;
  /** How `fluxgate register` keeps the type's webhooks, where its host has an API for them. */
  registration?: Registration;
  /** How following reports on the commit, where its host has a statuses API (src/feedback). */
  commitStatus?: CommitStatuses;
}

/** A provider type loaded from a plugin file. */
export interface LoadedPlugin {
  /** The file, absolute. */
  path: string;
  /** A digest of the content it was loaded from. */
  version: string;
  codec: ProviderCodec<unknown>;
}

export type Catalog = ReadonlyMap<string, ProviderCodec<unknown>> & {
  /** The plugin files it was loaded from (absolute), for reload. */
  readonly files: readonly string[];
  /** A digest of each plugin file's content, in `files` order. */
  readonly versions: readonly string[];
  /** pluginsDir (absolute), when set: a file added there is a change too. */
  readonly directory?: string;
  /** The types loaded from plugin files, by type. */
  readonly plugins: ReadonlyMap<string, LoadedPlugin>;
  /** What differs on disk from what is loaded, when new plugins were not loaded (a file watch): for a SIGHUP to load. */
  readonly pending: readonly string[];
  /** The built-in types' samples, by type, for `fluxgate send`. */
  readonly samples: ReadonlyMap<string, Sample>;
  /** The types `fluxgate register` can keep webhooks for, by type (built-in types whose host has a hooks API). */
  readonly registrations: ReadonlyMap<string, Registration>;
  /** The types following can report commit statuses for, by type (built-in types whose host has a statuses API). */
  readonly commitStatuses: ReadonlyMap<string, CommitStatuses>;
};

type MutableCatalog = Map<string, ProviderCodec<unknown>> & {
  files: string[];
  versions: string[];
  directory?: string;
  plugins: Map<string, LoadedPlugin>;
  pending: string[];
  samples: Map<string, Sample>;
  registrations: Map<string, Registration>;
  commitStatuses: Map<string, CommitStatuses>;
};

export interface LoadCatalogOptions {
  /** The catalog loaded before (a reload): its plugins are kept for files whose content has not changed. */
  previous?: Catalog;
  /**
   * False when a file watch triggered the load: no new code is loaded; `previous`'s plugins stay as they are, and
   * the files that differ are listed in `pending`. Default true (start-up, SIGHUP, validate).
   */
  loadNew?: boolean;
  /** How long a plugin's import may take (plugin-trial.ts). */
  timeoutMs?: number;
  /** The process's user, who (or root) must own pluginsDir and its files. */
  uid?: number;
}

function register(catalog: MutableCatalog, factory: ProviderFactory, kit: ProviderKit, origin: string): ProviderCodec<unknown> {
  const codec = factory(kit) as ProviderCodec<unknown>;
  const complete =
    codec && typeof codec.id === 'string' && Array.isArray(codec.defaultEvents) && Array.isArray(codec.secretFields) && ['describe', 'verify', 'parse', 'sign'].every((member) => typeof (codec as unknown as Record<string, unknown>)[member] === 'function');
  if (!complete) throw new Error(`${origin}: the default export must be (kit) => ProviderCodec with id, defaultEvents, secretFields, describe, verify, parse and sign`);
  return add(catalog, codec, origin);
}

function add(catalog: MutableCatalog, codec: ProviderCodec<unknown>, origin: string): ProviderCodec<unknown> {
  if (catalog.has(codec.id)) throw new Error(`${origin}: provider type "${codec.id}" is already taken`);
  catalog.set(codec.id, codec);
  return codec;
}

/**
 * @example const catalog = builtinCatalog(builtinProviders, providerKit); catalog.get('github')!.verify(…)
 */
export function builtinCatalog(builtins: readonly BuiltinProvider[], kit: ProviderKit): MutableCatalog {
  const catalog: MutableCatalog = Object.assign(new Map<string, ProviderCodec<unknown>>(), {
    files: [] as string[],
    versions: [] as string[],
    plugins: new Map<string, LoadedPlugin>(),
    pending: [] as string[],
    samples: new Map<string, Sample>(),
    registrations: new Map<string, Registration>(),
    commitStatuses: new Map<string, CommitStatuses>(),
  });
  for (const builtin of builtins) {
    const { id } = register(catalog, builtin.default, kit, 'built-in provider');
    catalog.samples.set(id, builtin.sample);
    if (builtin.registration) catalog.registrations.set(id, builtin.registration);
    if (builtin.commitStatus) catalog.commitStatuses.set(id, builtin.commitStatus);
  }
  return catalog;
}

/** The plugin files of `root`, sorted, with their content's digest; throws when the directory may not be trusted. */
function pluginFiles(root: string, uid: number): { path: string; version: string }[] {
  let names: string[];
  try {
    const stats = statSync(root);
    if (!stats.isDirectory()) throw new Error(`pluginsDir ${root}: not a directory`);
    const unsafe = unsafeAccess(root, stats, uid);
    if (unsafe !== undefined) throw new Error(`pluginsDir ${root}: ${unsafe}`);
    names = readdirSync(root).filter((file) => /\.(ts|js|mjs)$/.test(file) && !file.endsWith('.d.ts') && !file.includes('.test.'));
  } catch (error) {
    if (!(error as NodeJS.ErrnoException).code) throw error;
    throw new Error(`pluginsDir ${root}: ${readFailure(error)}`);
  }
  return names.sort().map((name) => {
    const path = join(root, name);
    try {
      const bytes = readRegularFile(path, MAX_PLUGIN_FILE_BYTES, (stats) => unsafeAccess(path, stats, uid));
      return { path, version: createHash('sha256').update(bytes).digest('hex').slice(0, 16) };
    } catch (error) {
      throw new Error(`plugin ${path}: ${readFailure(error)}`);
    }
  });
}

/** The built-ins plus the providers in `directory` (relative to `baseDir`, the config file's directory). */
export async function loadCatalog(builtins: readonly BuiltinProvider[], kit: ProviderKit, directory: string | undefined, baseDir: string, options: LoadCatalogOptions = {}): Promise<Catalog> {
  const root = directory ? resolve(baseDir, directory) : undefined;
  const { previous } = options;
  if (options.loadNew === false && previous) return keepLoaded(builtins, kit, previous, root);
  const catalog = Object.assign(builtinCatalog(builtins, kit), { directory: root });
  if (!root) return catalog;
  const loaded = new Map([...(previous?.plugins.values() ?? [])].map((plugin) => [`${plugin.path}?v=${plugin.version}`, plugin.codec]));
  for (const { path, version } of pluginFiles(root, options.uid ?? processUid())) {
    catalog.files.push(path);
    catalog.versions.push(version);
    // The module cache keys on the specifier: a changed file gets a new one (so a reload sees it), an unchanged
    // file the same (so reloads do not pile up copies). The plugin's own imports are cached as usual.
    const specifier = `${path}?v=${version}`;
    let codec = loaded.get(specifier);
    if (codec) add(catalog, codec, path);
    else {
      const failed = await trialLoad(specifier, options.timeoutMs ?? PLUGIN_LOAD_TIMEOUT_MS);
      if (failed !== undefined) throw new Error(`plugin ${path}: ${failed}`);
      const module = (await import(specifier)) as { default?: ProviderFactory };
      if (typeof module.default !== 'function') throw new Error(`${path}: no default export (expected (kit) => ProviderCodec)`);
      codec = register(catalog, module.default, kit, path);
    }
    catalog.plugins.set(codec.id, { path, version, codec });
  }
  return catalog;
}

/**
 * The previous catalog's plugins as they are, with what differs on disk listed as pending: a new, changed or
 * removed plugin file, or another pluginsDir. Nothing is imported.
 */
function keepLoaded(builtins: readonly BuiltinProvider[], kit: ProviderKit, previous: Catalog, root: string | undefined): Catalog {
  const catalog = Object.assign(builtinCatalog(builtins, kit), { directory: previous.directory });
  for (const plugin of previous.plugins.values()) {
    add(catalog, plugin.codec, plugin.path);
    catalog.plugins.set(plugin.codec.id, plugin);
  }
  catalog.files.push(...previous.files);
  catalog.versions.push(...previous.versions);
  if (root !== previous.directory) {
    catalog.pending.push(root === undefined ? 'pluginsDir removed' : `pluginsDir ${root}`);
    return catalog;
  }
  if (root === undefined) return catalog;
  const loaded = new Map(previous.files.map((path, index) => [path, previous.versions[index]]));
  let onDisk: { path: string; version: string }[];
  try {
    onDisk = pluginFiles(root, processUid());
  } catch (error) {
    catalog.pending.push((error as Error).message);
    return catalog;
  }
  for (const { path, version } of onDisk) if (loaded.get(path) !== version) catalog.pending.push(path);
  for (const path of loaded.keys()) if (!onDisk.some((file) => file.path === path)) catalog.pending.push(`${path} (removed)`);
  return catalog;
}
