/**
 * Authorization: everything is allowed except what a denial rule matches. Real requests that match get
 * 403 Forbidden worded like the API server's authorization filter; SelfSubjectAccessReview answers the same.
 */

import { forbidden, invalid } from './status.js';
import type { StatusError } from './status.js';
import { isPlainObject } from './types.js';
import type { KubeObject } from './types.js';

export interface AccessRule {
  verb: string;
  resource: string;
  group?: string;
  namespace?: string;
  subresource?: string;
}

export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export const SANDBOX_USER = 'sandbox-user';

/** `resource` may carry the subresource (`pods/log`); `*` matches anything; an omitted group/namespace matches any. */
function normalize(rule: AccessRule): Required<AccessRule> {
  const [resource = '', sub] = rule.resource.split('/');
  return {
    verb: rule.verb,
    resource,
    group: rule.group ?? '*',
    namespace: rule.namespace ?? '*',
    subresource: rule.subresource ?? sub ?? '',
  };
}

const fits = (pattern: string, value: string): boolean => pattern === '*' || pattern === value;

export function ruleMatches(rule: AccessRule, attrs: RequestAttributes): boolean {
  const r = normalize(rule);
  return (
    fits(r.verb, attrs.verb) &&
    fits(r.resource, attrs.resource) &&
    fits(r.group, attrs.group) &&
    fits(r.namespace, attrs.namespace) &&
    fits(r.subresource, attrs.subresource)
  );
}

/** True when every request `inner` matches is also matched by `outer`. */
function covers(outer: AccessRule, inner: AccessRule): boolean {
  const o = normalize(outer);
  const i = normalize(inner);
  return (Object.keys(o) as (keyof typeof o)[]).every((k) => o[k] === '*' || o[k] === i[k]);
}

export class AccessPolicy {
  private denials: AccessRule[];

  constructor(denials: AccessRule[] = []) {
    this.denials = [...denials];
  }

  deny(rule: AccessRule): void {
    this.denials.push({ ...rule });
  }

  /** Lifts every denial the rule covers (an identical rule, or a narrower one). */
  allow(rule: AccessRule): void {
    this.denials = this.denials.filter((d) => !covers(rule, d));
  }

  isAllowed(attrs: RequestAttributes): boolean {
    return !this.denials.some((rule) => ruleMatches(rule, attrs));
  }

  /** The 403 for a denied request, or undefined when it is allowed. */
  check(attrs: RequestAttributes): StatusError | undefined {
    if (this.isAllowed(attrs)) return undefined;
    return forbidden({ group: attrs.group, resource: attrs.resource }, attrs.name, forbiddenReason(attrs));
  }
}

/** `User "sandbox-user" cannot create resource "secrets" in API group "" in the namespace "data"` */
export function forbiddenReason(attrs: RequestAttributes): string {
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  return `User "${SANDBOX_USER}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.group}" ${scope}`;
}

/** POST selfsubjectaccessreviews: the review with `status.allowed` filled in. */
export function reviewAccess(body: KubeObject, policy: AccessPolicy): KubeObject {
  const spec = isPlainObject(body.spec) ? body.spec : {};
  const attrs = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  if (isPlainObject(attrs) === isPlainObject(nonResource)) {
    throw invalid('authorization.k8s.io', 'SelfSubjectAccessReview', '', [
      {
        type: 'FieldValueInvalid',
        field: 'spec.resourceAttributes',
        value: attrs ?? null,
        detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      },
    ]);
  }
  let allowed = true;
  if (isPlainObject(attrs)) {
    const text = (key: string): string => (typeof attrs[key] === 'string' ? (attrs[key] as string) : '');
    allowed = policy.isAllowed({
      verb: text('verb'),
      group: text('group'),
      resource: text('resource'),
      subresource: text('subresource'),
      namespace: text('namespace'),
      name: text('name'),
    });
  }
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { ...body.metadata },
    spec,
    status: { allowed },
  };
}
