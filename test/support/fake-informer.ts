/**
 * An in-memory informer with the contract of src/kube/informer.ts: the test decides when the (re)list happens
 * and which changes follow, so a consumer is driven without an API server.
 */
import type { Informer, InformerOptions, WatchedObject } from '../../src/kube/informer.ts';

export interface FakeInformer {
  /** The options the consumer created it with. */
  options: InformerOptions;
  started: boolean;
  stopped: boolean;
  sync(objects: readonly WatchedObject[]): void;
  upsert(object: WatchedObject): void;
  remove(object: WatchedObject): void;
}

/** A factory to hand the consumer; `last()` is the informer it made. */
export function fakeInformers(): { create(options: InformerOptions): Informer; last(): FakeInformer } {
  let made: FakeInformer | undefined;
  return {
    create(options) {
      const informer: FakeInformer = {
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
