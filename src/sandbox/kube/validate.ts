/**
 * The checks behind 422 Invalid, with the API server's field paths and wording
 * (k8s.io/apimachinery/pkg/util/validation and pkg/apis/{core,batch}/validation), for the parts
 * the product touches: names, labels, Secret/ConfigMap keys, pod templates, Job and CronJob specs.
 */

import { scheduleError, scheduleHasTimeZone, timeZoneError } from './cron.js';
import type { ResourceDef } from './resources.js';
import { invalid, invalidValue, notSupported, required } from './status.js';
import type { FieldError, StatusError } from './status.js';
import { asArray, dig, isPlainObject } from './types.js';
import type { KubeObject } from './types.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

export function dnsLabelErrors(field: string, value: string): FieldError[] {
  const errors: FieldError[] = [];
  if (value.length > 63) errors.push(invalidValue(field, value, 'must be no more than 63 characters'));
  if (!DNS1123_LABEL.test(value)) errors.push(invalidValue(field, value, DNS1123_LABEL_MSG));
  return errors;
}

export function dnsSubdomainErrors(field: string, value: string): FieldError[] {
  const errors: FieldError[] = [];
  if (value.length > 253) errors.push(invalidValue(field, value, 'must be no more than 253 characters'));
  if (!DNS1123_SUBDOMAIN.test(value)) errors.push(invalidValue(field, value, DNS1123_SUBDOMAIN_MSG));
  return errors;
}

function qualifiedNameErrors(field: string, key: string): FieldError[] {
  const slash = key.lastIndexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const errors: FieldError[] = [];
  if (prefix && !DNS1123_SUBDOMAIN.test(prefix)) {
    errors.push(invalidValue(field, key, `prefix part ${DNS1123_SUBDOMAIN_MSG}`));
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    errors.push(
      invalidValue(
        field,
        key,
        name.length > 63 ? 'name part must be no more than 63 characters' : QUALIFIED_NAME_MSG,
      ),
    );
  }
  return errors;
}

function labelErrors(field: string, labels: unknown): FieldError[] {
  if (!isPlainObject(labels)) return [];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    errors.push(...qualifiedNameErrors(field, key));
    const text = String(value);
    if (text.length > 63) errors.push(invalidValue(field, text, 'must be no more than 63 characters'));
    else if (!LABEL_VALUE.test(text)) errors.push(invalidValue(field, text, LABEL_VALUE_MSG));
  }
  return errors;
}

function metadataErrors(def: ResourceDef, obj: KubeObject): FieldError[] {
  const name = obj.metadata.name ?? '';
  const errors: FieldError[] = [];
  if (!name) errors.push(required('metadata.name', 'name or generateName is required'));
  else if (def.plural === 'namespaces') errors.push(...dnsLabelErrors('metadata.name', name));
  else errors.push(...dnsSubdomainErrors('metadata.name', name));
  if (def.plural === 'cronjobs' && name.length > 52) {
    errors.push(invalidValue('metadata.name', name, 'must be no more than 52 characters'));
  }
  errors.push(...labelErrors('metadata.labels', obj.metadata.labels));
  if (obj.metadata.annotations !== undefined && !isPlainObject(obj.metadata.annotations)) {
    errors.push(invalidValue('metadata.annotations', obj.metadata.annotations, 'must be a map'));
  }
  return errors;
}

function keyErrors(field: string, data: unknown): FieldError[] {
  if (!isPlainObject(data)) return [];
  return Object.keys(data)
    .filter((key) => !CONFIG_KEY.test(key) || key.length > 253 || key === '.' || key === '..')
    .map((key) => invalidValue(`${field}[${key}]`, key, CONFIG_KEY_MSG));
}

function podSpecErrors(spec: unknown, path: string, forJob: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const containers = asArray(dig(spec, 'containers'));
  if (containers.length === 0) errors.push(required(`${path}.containers`));
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const at = `${path}.containers[${i}]`;
    const name = typeof dig(c, 'name') === 'string' ? (dig(c, 'name') as string) : '';
    if (!name) errors.push(required(`${at}.name`));
    else {
      errors.push(...dnsLabelErrors(`${at}.name`, name));
      if (names.has(name)) errors.push({ type: 'FieldValueDuplicate', field: `${at}.name`, value: name });
      names.add(name);
    }
    if (!dig(c, 'image')) errors.push(required(`${at}.image`));
    asArray(dig(c, 'env')).forEach((env, j) => {
      if (!dig(env, 'name')) errors.push(required(`${at}.env[${j}].name`));
    });
    const volumeNames = new Set(asArray(dig(spec, 'volumes')).map((v) => dig(v, 'name')));
    asArray(dig(c, 'volumeMounts')).forEach((m, j) => {
      const mountName = dig(m, 'name');
      if (!mountName) errors.push(required(`${at}.volumeMounts[${j}].name`));
      else if (!volumeNames.has(mountName)) {
        errors.push({ type: 'FieldValueNotFound', field: `${at}.volumeMounts[${j}].name`, value: mountName });
      }
      if (!dig(m, 'mountPath')) errors.push(required(`${at}.volumeMounts[${j}].mountPath`));
    });
  });
  asArray(dig(spec, 'volumes')).forEach((v, i) => {
    const name = dig(v, 'name');
    if (typeof name !== 'string' || !name) errors.push(required(`${path}.volumes[${i}].name`));
    else errors.push(...dnsLabelErrors(`${path}.volumes[${i}].name`, name));
  });
  const restartPolicy = dig(spec, 'restartPolicy');
  const allowed = forJob ? ['OnFailure', 'Never'] : ['Always', 'OnFailure', 'Never'];
  if (!allowed.includes(String(restartPolicy))) {
    errors.push(notSupported(`${path}.restartPolicy`, restartPolicy ?? '', allowed));
  }
  return errors;
}

function nonNegative(field: string, value: unknown): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    return [invalidValue(field, value, 'must be greater than or equal to 0')];
  }
  return [];
}

function jobSpecErrors(spec: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  errors.push(...nonNegative(`${path}.backoffLimit`, dig(spec, 'backoffLimit')));
  errors.push(...nonNegative(`${path}.completions`, dig(spec, 'completions')));
  errors.push(...nonNegative(`${path}.parallelism`, dig(spec, 'parallelism')));
  const deadline = dig(spec, 'activeDeadlineSeconds');
  if (deadline !== undefined && deadline !== null && !(typeof deadline === 'number' && deadline > 0)) {
    errors.push(invalidValue(`${path}.activeDeadlineSeconds`, deadline, 'must be greater than 0'));
  }
  if (!isPlainObject(dig(spec, 'template'))) errors.push(required(`${path}.template`));
  else errors.push(...podSpecErrors(dig(spec, 'template', 'spec'), `${path}.template.spec`, true));
  return errors;
}

function cronJobErrors(obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const schedule = dig(obj, 'spec', 'schedule');
  if (typeof schedule !== 'string' || schedule === '') errors.push(required('spec.schedule'));
  else if (scheduleHasTimeZone(schedule)) {
    errors.push(
      invalidValue(
        'spec.schedule',
        schedule,
        'cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
      ),
    );
  } else {
    const problem = scheduleError(schedule);
    if (problem) errors.push(invalidValue('spec.schedule', schedule, problem));
  }
  const timeZone = dig(obj, 'spec', 'timeZone');
  if (timeZone !== undefined && timeZone !== null) {
    const problem = typeof timeZone === 'string' ? timeZoneError(timeZone) : 'must be a string';
    if (problem) errors.push(invalidValue('spec.timeZone', timeZone, problem));
  }
  const policy = dig(obj, 'spec', 'concurrencyPolicy');
  if (!['Allow', 'Forbid', 'Replace'].includes(String(policy))) {
    errors.push(notSupported('spec.concurrencyPolicy', policy ?? '', ['Allow', 'Forbid', 'Replace']));
  }
  errors.push(...nonNegative('spec.startingDeadlineSeconds', dig(obj, 'spec', 'startingDeadlineSeconds')));
  errors.push(
    ...nonNegative('spec.successfulJobsHistoryLimit', dig(obj, 'spec', 'successfulJobsHistoryLimit')),
  );
  errors.push(...nonNegative('spec.failedJobsHistoryLimit', dig(obj, 'spec', 'failedJobsHistoryLimit')));
  errors.push(...jobSpecErrors(dig(obj, 'spec', 'jobTemplate', 'spec'), 'spec.jobTemplate.spec'));
  return errors;
}

/** All field errors for an object about to be stored (after defaulting). */
export function validationErrors(def: ResourceDef, obj: KubeObject): FieldError[] {
  const errors = metadataErrors(def, obj);
  switch (def.plural) {
    case 'secrets': {
      errors.push(...keyErrors('data', obj.data));
      const size = Object.values(isPlainObject(obj.data) ? obj.data : {}).reduce<number>(
        (sum, v) => sum + Buffer.from(String(v), 'base64').length,
        0,
      );
      if (size > 1024 * 1024)
        errors.push({ type: 'FieldValueTooLong', field: 'data', detail: 'must have at most 1048576 bytes' });
      break;
    }
    case 'configmaps':
      errors.push(...keyErrors('data', obj.data), ...keyErrors('binaryData', obj.binaryData));
      break;
    case 'pods':
      errors.push(...podSpecErrors(obj.spec, 'spec', false));
      break;
    case 'jobs':
      errors.push(...jobSpecErrors(obj.spec, 'spec'));
      break;
    case 'cronjobs':
      errors.push(...cronJobErrors(obj));
      break;
  }
  return errors;
}

/** The 422 for an object, or undefined when it is valid. */
export function validateObject(def: ResourceDef, obj: KubeObject): StatusError | undefined {
  const errors = validationErrors(def, obj);
  return errors.length > 0 ? invalid(def.group, def.kind, obj.metadata.name ?? '', errors) : undefined;
}
