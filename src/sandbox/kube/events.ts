/**
 * core/v1 Events as controllers and the kubelet record them: `<object>.<hex>` names, involvedObject,
 * source, and repeats of the same reason and message folded into `count` / `lastTimestamp`.
 */

import type { Registry } from './registry.js';
import { mustResource } from './resources.js';
import { nowIso } from './types.js';
import type { KubeObject } from './types.js';

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  private readonly def = mustResource('', 'events');
  private sequence = 0n;

  constructor(private readonly registry: Registry) {}

  private suffix(): string {
    this.sequence += 1n;
    return (BigInt(Date.now()) * 1_000_000n + this.sequence).toString(16);
  }

  record(involved: KubeObject, type: EventType, reason: string, message: string, component: string): void {
    const namespace = involved.metadata.namespace ?? 'default';
    const store = this.registry.store;
    const existing = store
      .list(this.def, namespace)
      .find(
        (e) =>
          (e.involvedObject as { uid?: string } | undefined)?.uid === involved.metadata.uid &&
          e.reason === reason &&
          e.message === message,
      );
    const now = nowIso();
    if (existing) {
      existing.count = Number(existing.count ?? 1) + 1;
      existing.lastTimestamp = now;
      store.put(this.def, existing);
      return;
    }
    if (!store.get(mustResource('', 'namespaces'), '', namespace)) return;
    const involvedObject: Record<string, unknown> = {
      kind: involved.kind,
      namespace,
      name: involved.metadata.name,
      uid: involved.metadata.uid,
      apiVersion: involved.apiVersion,
      resourceVersion: involved.metadata.resourceVersion,
    };
    if (involved.kind === 'Pod') {
      const container = (involved.spec as { containers?: { name?: string }[] } | undefined)?.containers?.[0]
        ?.name;
      if (container && reason !== 'Scheduled' && reason !== 'FailedMount')
        involvedObject.fieldPath = `spec.containers{${container}}`;
    }
    const host = component === 'kubelet' ? 'sandbox' : undefined;
    this.registry.createAs(
      this.def,
      {
        apiVersion: 'v1',
        kind: 'Event',
        // Like client-go's recorder: the object's name and a hex timestamp, so names sort by time.
        metadata: { name: `${involved.metadata.name ?? 'object'}.${this.suffix()}`, namespace },
        involvedObject,
        reason,
        message,
        source: host ? { component, host } : { component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: component,
        reportingInstance: host ?? '',
      },
      component,
    );
  }
}
