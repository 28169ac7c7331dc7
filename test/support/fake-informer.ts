/**
 * An in-memory informer with the contract of src/watch/informer.ts: the test decides when the (re)list happens
 * and which changes follow, so a consumer is driven without an API server.
 */
export interface FakeInformer<T> {
  /** The options the consumer created it with. */
  options: { apiVersion: string; kind: string; namespaces?: readonly string[]; onSync(objects: readonly T[]): void; onChange(change: { type: 'upsert' | 'delete'; object: T }): void };
  started: boolean;
  stopped: boolean;
  sync(objects: readonly T[]): void;
  upsert(object: T): void;
  remove(object: T): void;
}

/** A factory to hand the consumer; `last()` is the informer it made. */
export function fakeInformers<T>(): { create(options: FakeInformer<T>['options']): { start(): void; stop(): Promise<void>; state(): string; problem(): string | undefined }; last(): FakeInformer<T> } {
  let made: FakeInformer<T> | undefined;
  return {
    create(options) {
      const informer: FakeInformer<T> = {
        options,
        started: false,
        stopped: false,
        sync: (objects) => options.onSync(objects),
        upsert: (object) => options.onChange({ type: 'upsert', object }),
        remove: (object) => options.onChange({ type: 'delete', object }),
      };
      made = informer;
      return {
        start: () => void (informer.started = true),
        stop: async () => void (informer.stopped = true),
        state: () => (informer.stopped ? 'stopped' : 'watching'),
        problem: () => undefined,
      };
    },
    last() {
      if (!made) throw new Error('no informer was created');
      return made;
    },
  };
}
