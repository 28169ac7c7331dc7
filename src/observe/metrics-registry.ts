/**
 * A small Prometheus registry: counters, gauges and histograms with fixed label names, rendered in the text
 * exposition format. Label sets are looked up by a joined key, so an increment on the request path costs a
 * Map lookup, not an allocation of label objects.
 */

type LabelValues = readonly string[];

interface Series<T> {
  labels: LabelValues;
  value: T;
}

abstract class Metric<T> {
  protected readonly series = new Map<string, Series<T>>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** A metric without labels exists from the start (as 0), so dashboards and alerts see it before it moves. */
  protected initUnlabelled(): void {
    if (this.labelNames.length === 0) this.entry([]);
  }

  protected entry(labels: LabelValues): Series<T> {
    const key = labels.length === 1 ? labels[0]! : labels.join('\u0000');
    let found = this.series.get(key);
    if (!found) {
      if (labels.length !== this.labelNames.length) throw new Error(`${this.name} takes labels ${this.labelNames.join(', ')}`);
      found = { labels: [...labels], value: this.initial() };
      this.series.set(key, found);
    }
    return found;
  }

  protected abstract initial(): T;
  abstract render(): string;

  protected labelText(labels: LabelValues, extra?: [string, string]): string {
    const pairs = labels.map((value, index) => `${this.labelNames[index]}="${escapeLabel(value)}"`);
    if (extra) pairs.push(`${extra[0]}="${extra[1]}"`);
    return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
  }

  protected header(type: string): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${type}\n`;
  }
}

/** A metric whose series each hold one number: the shared body of counters and gauges. */
abstract class ScalarMetric extends Metric<number> {
  protected abstract readonly type: 'counter' | 'gauge';
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames);
    this.initUnlabelled();
  }
  protected initial(): number {
    return 0;
  }
  get(labels: LabelValues = []): number {
    return this.entry(labels).value;
  }
  render(): string {
    let text = this.header(this.type);
    for (const { labels, value } of this.series.values()) text += `${this.name}${this.labelText(labels)} ${value}\n`;
    return text;
  }
}

export class Counter extends ScalarMetric {
  protected readonly type = 'counter';
  inc(labels: LabelValues = [], by = 1): void {
    this.entry(labels).value += by;
  }
}

export class Gauge extends ScalarMetric {
  protected readonly type = 'gauge';
  set(value: number, labels: LabelValues = []): void {
    this.entry(labels).value = value;
  }
}

interface HistogramValue {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramValue> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    this.initUnlabelled();
  }
  protected initial(): HistogramValue {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  observe(value: number, labels: LabelValues = []): void {
    const series = this.entry(labels).value;
    series.sum += value;
    series.count += 1;
    // Buckets are cumulative at render time; here only the first bucket that holds the value is bumped.
    const index = this.buckets.findIndex((bound) => value <= bound);
    if (index >= 0) series.counts[index]! += 1;
  }
  count(labels: LabelValues = []): number {
    return this.entry(labels).value.count;
  }
  render(): string {
    let text = this.header('histogram');
    for (const { labels, value } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += value.counts[index]!;
        text += `${this.name}_bucket${this.labelText(labels, ['le', String(bound)])} ${cumulative}\n`;
      });
      text += `${this.name}_bucket${this.labelText(labels, ['le', '+Inf'])} ${value.count}\n`;
      text += `${this.name}_sum${this.labelText(labels)} ${value.sum}\n`;
      text += `${this.name}_count${this.labelText(labels)} ${value.count}\n`;
    }
    return text;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export interface Renderable {
  render(): string;
}

/** Renders metrics in registration order, plus any extra collectors (process metrics) evaluated at scrape time. */
export class Registry {
  private readonly metrics: Renderable[] = [];
  register<M extends Renderable>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
  render(): string {
    return this.metrics.map((metric) => metric.render()).join('');
  }
}
