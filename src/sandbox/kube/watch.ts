/**
 * Watches (`?watch=true` on a collection): newline-delimited {"type","object"} events, starting with
 * synthetic ADDED events (no resourceVersion or "0") or replaying history after a resourceVersion
 * (410 Expired when it is too old), then live changes until timeoutSeconds or the client goes away.
 */

import type { ServerResponse } from 'node:http';

import type { ResourceDef } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { StatusError } from './status.js';
import type { Change, Store } from './store.js';
import type { KubeObject } from './types.js';

export interface WatchOptions {
  namespace: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  timeoutSeconds?: number;
}

/** Starts streaming; returns a function that ends the stream. */
export function serveWatch(
  res: ServerResponse,
  store: Store,
  def: ResourceDef,
  options: WatchOptions,
): () => void {
  const labels = options.labelSelector ? parseLabelSelector(options.labelSelector) : [];
  const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector) : [];
  const matches = (obj: KubeObject): boolean =>
    (!options.namespace || obj.metadata.namespace === options.namespace) &&
    matchesLabels(obj.metadata.labels, labels) &&
    matchesFields(obj, fields);

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const send = (type: string, object: unknown): void => {
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const onChange = (change: Change): void => {
    if (change.resource === def && matches(change.object)) send(change.type, change.object);
  };

  let ended = false;
  let unsubscribe = (): void => undefined;
  let timer: NodeJS.Timeout | undefined;
  const end = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
    res.end();
  };
  res.on('close', end);

  const rv = options.resourceVersion;
  if (!rv || rv === '0') {
    for (const obj of store.list(def, options.namespace)) if (matches(obj)) send('ADDED', obj);
  } else {
    const since = Number(rv);
    if (!Number.isInteger(since) || since < store.oldestRevision - 1) {
      const expired = new StatusError(
        410,
        'Expired',
        `too old resource version: ${rv} (${store.resourceVersion})`,
      );
      send('ERROR', expired.toBody());
      end();
      return end;
    }
    for (const change of store.changesSince(since)) onChange(change);
  }
  unsubscribe = store.onChange(onChange);
  if (options.timeoutSeconds && options.timeoutSeconds > 0)
    timer = setTimeout(end, options.timeoutSeconds * 1000);
  return end;
}
