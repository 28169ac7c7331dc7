/** The status page at `/`: providers, targets, and recent deliveries with what each caused. */
import type { Config } from '../config/schema.ts';
import type { DeliveryRecord } from '../observe/delivery-log.ts';
import { escapeHtml as e } from './html.ts';

export interface StatusView {
  version: string;
  kubernetes: string;
  config: Config;
  /** Events each provider accepts (its configured list or its type's defaults). */
  events: ReadonlyMap<string, ReadonlySet<string>>;
  deliveries: DeliveryRecord[];
  startedAt: string;
}

const style = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}
.accepted{color:#1a7f37}.ignored{color:#777}.rejected{color:#b42318}code{font-size:13px}ul{margin:0;padding-left:1rem}`;

function table(headings: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p>none</p>';
  const head = headings.map((heading) => `<th>${heading}</th>`).join('');
  return `<table><tr>${head}</tr>${rows.map((cells) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('')}</table>`;
}

function matchText(match: Config['targets'][number]['match']): string {
  if (!match) return 'any';
  const parts = Object.entries(match).map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(', ') : value}`);
  return parts.length > 0 ? e(parts.join('; ')) : 'any';
}

function labelText(labels: Record<string, string> | undefined): string {
  return `{${Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`).join(',')}}`;
}

function effects(record: DeliveryRecord): string {
  if (record.objects.length === 0) return e(record.reason ?? '');
  const items = record.objects.map(
    (object) => `<li>${object.cluster ? `${e(object.cluster)}: ` : ''}${e(object.object)}: <b>${e(object.state)}</b>${object.detail ? ` (${e(object.detail)})` : ''}${object.rule ? `<br><small>${e(object.rule)}</small>` : ''}</li>`,
  );
  const misses = (record.nearMisses ?? []).map((miss) => `<li><small>not reconciled: ${e(miss)}</small></li>`);
  return `<ul>${items.join('')}${misses.join('')}</ul>`;
}

export function renderStatusPage(view: StatusView): string {
  const providers = view.config.providers.map((provider) => [
    e(provider.name),
    e(provider.type),
    `<code>POST /hook/${e(provider.name)}</code>`,
    e([...(view.events.get(provider.name) ?? [])].join(', ')),
  ]);
  const targets = view.config.targets.map((target) => [
    e(target.name),
    e(target.providers.join(', ')),
    matchText(target.match),
    `<ul>${target.resources.map((resource) => `<li>${e(resource.kind)} ${e(resource.namespace)}/${e(resource.name ?? labelText(resource.matchLabels))}</li>`).join('')}</ul>`,
  ]);
  const deliveries = view.deliveries.map((record) => [
    e(record.receivedAt),
    e(record.provider),
    e(record.event ?? ''),
    e(record.deliveryId ?? ''),
    `<span class="${e(record.outcome)}">${record.status} ${e(record.outcome)}</span>`,
    e([record.repository, record.ref].filter(Boolean).join(' ')),
    effects(record),
  ]);
  return `<!doctype html><html><head><meta charset="utf-8"><title>fluxgate</title><style>${style}</style></head><body>
<h1>fluxgate ${e(view.version)}</h1>
<p>Kubernetes: ${e(view.kubernetes)} · started ${e(view.startedAt)} · <a href="/metrics">metrics</a> · <a href="/api/deliveries">deliveries as JSON</a></p>
<h2>Providers</h2>${table(['name', 'type', 'route', 'events'], providers)}
<h2>Targets</h2>${table(['name', 'providers', 'match', 'resources'], targets)}
<h2>Recent deliveries</h2>${table(['received', 'provider', 'event', 'delivery', 'answer', 'repository / ref', 'caused'], deliveries)}
</body></html>`;
}
