/**
 * Counts the work a codec does on a payload, deterministically: the kit it receives parses JSON as usual and hands
 * back the document behind a Proxy that counts every read of a field, an index, a key list or a length. A codec
 * that reads each value of a payload a bounded number of times stays within a fixed multiple of the payload's size;
 * one that loops over a list inside a loop over it (`Array.includes` per entry) does not, whatever the machine.
 * Regular expressions and strings are not seen here (a wall-clock ceiling in the test catches those).
 *
 * The same Proxy can note which paths a codec reads: a value it never reads cannot change what it does, so the
 * exhaustive edits aim at those.
 */
import { providerKit, type ProviderKit } from '../../../src/provider-kit/kit.ts';

/** A path read, relative to the document `json` returned: `["repository","full_name"]`; `[…,"*"]` for a key list. */
export type ReadPath = string;

export interface WorkMeter {
  /** Reads since the last reset. */
  readonly reads: number;
  reset(): void;
  /** `value` behind the counting Proxy (objects and arrays; other values as they are). */
  watch<T>(value: T): T;
  /** From now on, note each path read in `paths` (undefined: stop noting). */
  noteInto(paths: Set<ReadPath> | undefined): void;
}

export function workMeter(): WorkMeter {
  let reads = 0;
  let noted: Set<ReadPath> | undefined;
  const proxies = new WeakMap<object, object>();
  const note = (path: readonly (string | number)[], target: object, key: string | symbol) => {
    if (noted && typeof key === 'string') noted.add(JSON.stringify([...path, Array.isArray(target) && /^\d+$/.test(key) ? Number(key) : key]));
  };
  const watch = <T>(value: T, path: readonly (string | number)[] = []): T => {
    if (typeof value !== 'object' || value === null) return value;
    const known = proxies.get(value);
    if (known) return known as T;
    // Paths are only built while noting: a 100,000-entry list is read without an array per entry.
    const child = (target: object, key: string | symbol, item: unknown) =>
      typeof item !== 'object' || item === null ? item : watch(item, noted && typeof key === 'string' ? [...path, Array.isArray(target) ? Number(key) : key] : path);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        reads++;
        note(path, target, key);
        return child(target, key, Reflect.get(target, key, receiver));
      },
      has(target, key) {
        reads++;
        note(path, target, key);
        return Reflect.has(target, key);
      },
      getOwnPropertyDescriptor(target, key) {
        reads++;
        note(path, target, key);
        const descriptor = Reflect.getOwnPropertyDescriptor(target, key);
        // A Proxy may not report another value for a fixed property (an array's length, a number anyway).
        return descriptor?.configurable && 'value' in descriptor ? { ...descriptor, value: child(target, key, descriptor.value) } : descriptor;
      },
      ownKeys(target) {
        const keys = Reflect.ownKeys(target);
        reads += keys.length + 1;
        note(path, target, '*');
        return keys;
      },
    });
    proxies.set(value, proxy);
    return proxy as T;
  };
  return {
    get reads() {
      return reads;
    },
    reset: () => (reads = 0),
    watch: (value) => watch(value),
    noteInto: (paths) => (noted = paths),
  };
}

/** The provider kit, with `json` returning documents the meter watches. Everything else is the real kit. */
export function meteredKit(meter: WorkMeter): ProviderKit {
  return { ...providerKit, json: (body) => meter.watch(providerKit.json(body)) };
}
