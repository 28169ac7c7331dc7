/**
 * The status page at `/`: what fluxgate serves (providers, targets), what is wrong with it (dry-run, missing
 * permissions, a refused reload, requests to unknown hooks), and recent deliveries with the state their patches
 * reached, each linking to its drill-down. It refreshes itself every few seconds, without JavaScript.
 */
import type { Config } from '../config/index.ts';
import { deliveryKey, type DeliveryRecord } from '../store/index.ts';
import { followedLines } from './followed-section.ts';
import { escapeHtml as e, page, table } from './html.ts';
import { stateSection, type StateView } from './state-section.ts';
import { relaySection, type RelayView } from './relay-section.ts';

/** The config reloads as the page shows them (src/app/reload.ts keeps them). */
export interface ReloadStatus {
  /** How many configs have been applied since start (0: the one serve started with). */
  generation: number;
  /** The last reload attempt, if any. */
  last?: {
    at: number;
    trigger: string;
    /** `restored`: after a refused reload, the files came back to what the running config was loaded from. */
    outcome: 'success' | 'failure' | 'restored';
    /** A refused config's problems, as `file:line:col path: message` lines. */
    problems?: string[];
  };
  /** Settings changed in the file that keep their running values until a restart (e.g. `server.address`). */
  restartNeeded: string[];
}

/** A Flux Receiver as the page shows it (src/receivers/ serves them). */
export interface ReceiverView {
  namespace: string;
  name: string;
  type?: string;
  ready: boolean;
  reason: string;
  suspended: boolean;
  path?: string;
}

/** A provider as the page shows it. */
export interface ProviderView {
  name: string;
  type: string;
  route: string;
  /** False for an unsigned provider: its route is its only secret. */
  verifies: boolean;
  events: ReadonlySet<string>;
}

export interface StatusView {
  version: string;
  kubernetes: string;
  dryRun: boolean;
  config: Config;
  providers: readonly ProviderView[];
  deliveries: DeliveryRecord[];
  startedAt: string;
  reload: ReloadStatus;
  /** Problems the operator should know about (missing permissions, …), as sentences. */
  problems: readonly string[];
  unknownHooks: { count: number; last?: string };
  /** Seconds between refreshes; undefined: the page does not refresh. */
  refreshSeconds?: number;
  /** The cluster's Flux Receivers, when `fluxReceivers` is enabled; `problem`: why they are not being watched. */
  receivers?: { list: readonly ReceiverView[]; problem?: string };
  /** The state store: where accepted work is kept, and the failures kept for a retry. */
  state?: StateView;
  /** A relay: the edge's subscribers, or the agent's upstream. */
  relay?: RelayView;
}

/** How often the page refreshes itself. */
export const REFRESH_SECONDS = 5;
/**
 * Rows and, per row, objects the page shows at most (the newest; the rest are in /api/deliveries and on each
 * delivery's page): with every recorded value cut to SHOWN_CHARACTERS, the page, and the time the process spends
 * building it while webhooks wait, stay bounded whatever admin.recentDeliveries and a delivery's fan-out are.
 */
export const SHOWN_DELIVERIES = 100;
export const SHOWN_OBJECTS = 10;

/**
 * A route the page may show: an unsigned provider's route, and a custom `path` (often a Flux Receiver's
 * hashed path), is cut after the first characters of its last segment.
 */
export function shownRoute(provider: Pick<ProviderView, 'name' | 'route' | 'verifies'>): string {
  if (provider.verifies && provider.route === `/hook/${provider.name}`) return provider.route;
  const cut = provider.route.lastIndexOf('/') + 1;
  return `${provider.route.slice(0, cut)}${provider.route.slice(cut, cut + 4)}…`;
}

function matchText(match: Config['targets'][number]['match']): string {
  if (!match) return 'any';
  const parts = Object.entries(match).map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(', ') : value}`);
  return parts.length > 0 ? e(parts.join('; ')) : 'any';
}

function labelText(labels: Record<string, string> | undefined): string {
  return `{${Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`).join(',')}}`;
}

/** Each object and the state its patch reached (the first SHOWN_OBJECTS), or the reason of an ignored delivery. */
function effects(record: DeliveryRecord, key: string | undefined): string {
  if (record.objects.length === 0) return e(record.reason ?? '');
  const items = record.objects.slice(0, SHOWN_OBJECTS).map(
    (object) =>
      `<li>${object.cluster ? `${e(object.cluster)}: ` : ''}${e(object.object)}: <b class="${e(object.state)}">${e(object.state)}</b>${object.detail ? ` (${e(object.detail)})` : ''}${object.rule ? `<br><small>${e(object.rule)}</small>` : ''}</li>`,
  );
  const more = record.objects.length - SHOWN_OBJECTS;
  if (more > 0) items.push(`<li>and ${more} more${key ? `: <a href="/deliveries/${encodeURIComponent(key)}">all objects</a>` : ''}</li>`);
  const misses = (record.nearMisses ?? []).map((miss) => `<li><small>not reconciled: ${e(miss)}</small></li>`);
  return `<ul>${items.join('')}${followedLines(record, SHOWN_OBJECTS).join('')}${misses.join('')}</ul>`;
}

function answerText(record: DeliveryRecord): string {
  const state = record.state ? ` · <b class="${e(record.state)}">${e(record.state)}</b>` : '';
  return `<span class="${e(record.outcome)}">${record.status} ${e(record.outcome)}</span>${state}`;
}

function reloadText(reload: ReloadStatus): string {
  const restart = reload.restartNeeded.length > 0 ? ` · <b>restart needed</b> for ${e(reload.restartNeeded.join(', '))}` : '';
  if (!reload.last) return `config as started${restart}`;
  const when = new Date(reload.last.at).toISOString();
  if (reload.last.outcome === 'success') return `config reloaded ${e(when)} (${e(reload.last.trigger)}, generation ${reload.generation})${restart}`;
  if (reload.last.outcome === 'restored') return `config files back to the running config ${e(when)}: the refused reload no longer applies (generation ${reload.generation})${restart}`;
  const problems = (reload.last.problems ?? []).map((problem) => `<li><code>${e(problem)}</code></li>`).join('');
  return `<span class="rejected">config reload refused ${e(when)} (${e(reload.last.trigger)}); generation ${reload.generation} keeps serving</span>${restart}<ul>${problems}</ul>`;
}

/** Each Receiver: whether it is served and why not, its path shortened (it is the credential of unsigned types). */
function receiverSection(receivers: NonNullable<StatusView['receivers']>): string {
  const rows = receivers.list.map((receiver) => [
    `${e(receiver.namespace)}/${e(receiver.name)}`,
    e(receiver.type ?? ''),
    receiver.suspended ? 'suspended (503)' : receiver.ready ? '<span class="accepted">ready</span>' : '<span class="rejected">not ready</span>',
    e(receiver.reason),
    receiver.path ? `<code>${e(receiver.path)}</code>` : '',
  ]);
  const problem = receivers.problem ? `<p class="rejected">${e(receivers.problem)}</p>` : '';
  return `\n<h2>Flux Receivers</h2>${problem}${table(['receiver', 'type', 'state', 'reason', 'path'], rows)}`;
}

export function renderStatusPage(view: StatusView): string {
  const providers = view.providers.map((provider) => [
    e(provider.name),
    e(provider.type) + (provider.verifies ? '' : ' <b class="problem">unsigned</b>'),
    `<code>POST ${e(shownRoute(provider))}</code>`,
    e([...provider.events].join(', ')),
  ]);
  const targets = view.config.targets.map((target) => [
    e(target.name),
    e(target.providers.join(', ')),
    matchText(target.match),
    `<ul>${target.resources.map((resource) => `<li>${e(resource.kind)} ${e(resource.namespace)}/${e(resource.name ?? labelText(resource.matchLabels))}</li>`).join('')}</ul>`,
  ]);
  const deliveries = view.deliveries.slice(0, SHOWN_DELIVERIES).map((record) => {
    const key = deliveryKey(record);
    return [
      e(record.receivedAt),
      e(record.provider),
      e(record.event ?? ''),
      key ? `<a href="/deliveries/${encodeURIComponent(key)}">${e(key)}</a>` : '',
      answerText(record),
      e([record.repository, record.ref].filter(Boolean).join(' ')),
      effects(record, key),
    ];
  });
  const older = view.deliveries.length - SHOWN_DELIVERIES;
  const olderText = older > 0 ? `<p>the newest ${SHOWN_DELIVERIES} of ${view.deliveries.length}: all of them are in <a href="/api/deliveries">/api/deliveries</a></p>` : '';
  const banners = [
    ...(view.dryRun ? ['<div class="banner"><b>dry-run</b>: reconcile requests are logged, not sent to Kubernetes.</div>'] : []),
    ...(view.problems.length > 0 ? [`<div class="banner"><b>Problems</b><ul>${view.problems.map((problem) => `<li class="problem">${e(problem)}</li>`).join('')}</ul></div>`] : []),
  ];
  const unknown = view.unknownHooks.count > 0 ? `<p class="problem">${view.unknownHooks.count} request${view.unknownHooks.count === 1 ? '' : 's'} to unknown hook paths (last: <code>${e(view.unknownHooks.last ?? '')}</code>)</p>` : '';
  const refresh = view.refreshSeconds !== undefined ? `refreshes every ${view.refreshSeconds} s (<a href="/?refresh=off">stop</a>)` : '<a href="/">refresh automatically</a>';
  return page(
    'fluxgate',
    `<h1>fluxgate ${e(view.version)}</h1>
${banners.join('\n')}
<p>Kubernetes: ${e(view.kubernetes)} · started ${e(view.startedAt)} · <a href="/metrics">metrics</a> · <a href="/api/deliveries">deliveries as JSON</a> · ${refresh}</p>
<p>${reloadText(view.reload)}</p>
<h2>Providers</h2>${table(['name', 'type', 'route', 'events'], providers)}
<h2>Targets</h2>${table(['name', 'providers', 'match', 'resources'], targets)}${view.receivers ? receiverSection(view.receivers) : ''}${view.state ? stateSection(view.state) : ''}${view.relay ? relaySection(view.relay) : ''}
<h2>Recent deliveries</h2>${unknown}${olderText}${table(['received', 'provider', 'event', 'delivery', 'answer', 'repository / ref', 'caused'], deliveries)}`,
    view.refreshSeconds,
  );
}
