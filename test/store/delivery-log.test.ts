/** The recent-deliveries record behind the status page and /api/deliveries: bounded, newest first, states from patches. */
import { describe, expect, test } from 'bun:test';
import { createDeliveryLog, type DeliveryLog } from '../../src/store/delivery-log.ts';

const receivedAt = '2026-01-02T03:04:05.006Z';
const accepted = (log: DeliveryLog, ticket: number, deliveryId?: string) =>
  log.add({ ticket, ...(deliveryId ? { deliveryId } : {}), provider: 'github', type: 'github', receivedAt, status: 202, outcome: 'accepted', targets: ['app'] });

describe('createDeliveryLog', () => {
  test('keeps the last `capacity` deliveries, newest first, and forgets the tickets of those it drops', () => {
    const log = createDeliveryLog(3);
    for (let ticket = 1; ticket <= 5; ticket += 1) accepted(log, ticket, `d-${ticket}`);
    log.add({ provider: 'github', type: 'github', receivedAt, status: 200, outcome: 'ignored', reason: 'ping', targets: [] });
    expect(log.recent().map((record) => record.deliveryId ?? record.reason)).toEqual(['ping', 'd-5', 'd-4']);
    expect(log.find('d-3')).toBeUndefined();
    log.effect(3, { object: 'GitRepository flux-system/app', state: 'patched' });
    expect(log.find('d-4')?.state).toBe('pending');
    expect(log.recent({ outcome: 'ignored' })).toHaveLength(1);
  });

  test('a delivery without an id is found as fluxgate-<ticket>', () => {
    const log = createDeliveryLog(10);
    accepted(log, 7);
    expect(log.find('fluxgate-7')?.ticket).toBe(7);
  });

  test("its state follows its objects': pending, then patched, partly-failed or failed; a later state replaces the detail", () => {
    const log = createDeliveryLog(10);
    accepted(log, 1, 'one');
    log.effect(1, { object: 'GitRepository flux-system/app', state: 'pending', detail: 'coalesced into the next patch' });
    log.effect(1, { object: 'Kustomization flux-system/app', state: 'pending' });
    expect(log.find('one')?.state).toBe('pending');
    log.effect(1, { object: 'GitRepository flux-system/app', state: 'patched', attempts: 1, latencyMs: 12 });
    expect(log.find('one')?.state).toBe('pending');
    log.effect(1, { object: 'Kustomization flux-system/app', state: 'not-found', detail: 'no such object' });
    const record = log.find('one')!;
    expect(record.state).toBe('partly-failed');
    expect(record.objects).toEqual([
      { object: 'GitRepository flux-system/app', state: 'patched', attempts: 1, latencyMs: 12 },
      { object: 'Kustomization flux-system/app', state: 'not-found', detail: 'no such object' },
    ]);
    expect(JSON.stringify(record.objects[0])).not.toContain('coalesced');
  });

  test('the same object in two clusters is two rows; a label selector row does not count toward the state', () => {
    const log = createDeliveryLog(10);
    accepted(log, 1, 'one');
    log.effect(1, { object: '{app=web}', state: 'selected' });
    log.effect(1, { object: 'GitRepository flux-system/app', cluster: 'east', state: 'dry-run' });
    log.effect(1, { object: 'GitRepository flux-system/app', cluster: 'west', state: 'dry-run' });
    expect(log.find('one')!.objects).toHaveLength(3);
    expect(log.find('one')!.state).toBe('dry-run');
  });

  test('a delivery of hundreds of objects is updated object by object', () => {
    const log = createDeliveryLog(10);
    accepted(log, 1, 'wide');
    const objects = Array.from({ length: 500 }, (_, index) => `GitRepository flux-system/app-${index}`);
    for (const object of objects) log.effect(1, { object, state: 'pending' });
    for (const object of objects.slice(0, 499)) log.effect(1, { object, state: 'patched' });
    expect(log.find('wide')!.state).toBe('pending');
    log.effect(1, { object: objects[499]!, state: 'failed', detail: 'forbidden' });
    const record = log.find('wide')!;
    expect(record.objects).toHaveLength(500);
    expect(record.state).toBe('partly-failed');
    expect(record.objects.filter((object) => object.state === 'patched')).toHaveLength(499);
  });
});
