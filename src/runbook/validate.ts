/**
 * Validators for runbook values. Each returns an error message an SRE can act on, or undefined.
 * They are strict on purpose: values end up in Kubernetes objects, S3 keys and connection strings.
 */
export type Validator = (value: string) => string | undefined;

const MAX_LENGTH = 2048;

/** Rejects what never belongs in a single-line setting: control characters (newlines included) and huge input. */
export const singleLine: Validator = (value) => {
  if (value.length > MAX_LENGTH) return `is ${value.length} characters long; the limit is ${MAX_LENGTH}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'contains a control character (newline, tab, …); remove it';
  return undefined;
};

export const required: Validator = (value) => (value.trim() === '' ? 'is empty' : undefined);

export const dns1123Subdomain: Validator = (value) => {
  if (value.length > 253) return 'must be at most 253 characters (a DNS-1123 subdomain)';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(value))
    return 'must be lower-case letters, digits, "-" and ".", starting and ending with a letter or digit (DNS-1123)';
  return undefined;
};

export const dns1123Label: Validator = (value) => {
  if (value.length > 63) return 'must be at most 63 characters (a DNS-1123 label)';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value))
    return 'must be lower-case letters, digits and "-", starting and ending with a letter or digit (DNS-1123 label)';
  return undefined;
};

export const port: Validator = (value) => {
  if (!/^\d{1,5}$/.test(value)) return 'must be a port number from 1 to 65535';
  const n = Number(value);
  return n >= 1 && n <= 65535 ? undefined : 'must be a port number from 1 to 65535';
};

/** S3 bucket naming rules (general purpose buckets). */
export const s3Bucket: Validator = (value) => {
  if (value.length < 3 || value.length > 63) return 'must be 3 to 63 characters (S3 bucket name)';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(value))
    return 'must be lower-case letters, digits, "." and "-", starting and ending with a letter or digit';
  if (value.includes('..')) return 'must not contain ".."';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(value)) return 'must not look like an IP address';
  if (value.startsWith('xn--') || value.endsWith('-s3alias')) return 'uses a prefix or suffix S3 reserves';
  return undefined;
};

/** AWS-style region names (us-east-1, eu-central-2, us-gov-west-1) and the short names S3-compatible stores use. */
export const region: Validator = (value) =>
  /^[a-z]{2,}(-[a-z0-9]+){0,4}$/.test(value) && value.length <= 32
    ? undefined
    : 'must look like a region name, e.g. us-east-1 (S3-compatible stores: the region they document, e.g. auto)';

export const httpUrl: Validator = (value) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL such as https://s3.example.com';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must start with https:// or http://';
  if (url.username || url.password)
    return 'must not carry credentials; use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY';
  if (url.search || url.hash) return 'must not have a query or fragment';
  return undefined;
};

/** A host name or an IPv4/IPv6 address: what a Kubernetes Service DNS name or a database endpoint looks like. */
export const host: Validator = (value) => {
  if (value.length > 253) return 'must be at most 253 characters';
  if (/^\[?[0-9a-fA-F:]+\]?$/.test(value) && value.includes(':')) return undefined; // IPv6
  if (/^(\d{1,3}\.){3}\d{1,3}$/.test(value)) {
    return value.split('.').every((octet) => Number(octet) <= 255)
      ? undefined
      : 'is not a valid IPv4 address';
  }
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?)*\.?$/.test(value))
    return 'must be a host name (letters, digits, "-", ".") or an IP address';
  return undefined;
};

/** An S3 key prefix as the jobs use it: relative, "/"-separated, ending in "/". */
export const s3Prefix: Validator = (value) => {
  if (value === '') return 'is empty; use e.g. postgres/';
  if (value.startsWith('/')) return 'must not start with "/" (S3 keys are relative to the bucket)';
  if (!value.endsWith('/')) return 'must end with "/", e.g. postgres/';
  if (value.split('/').some((part) => part === '..' || part === '.'))
    return 'must not contain "." or ".." segments';
  if (value.includes('//')) return 'must not contain "//"';
  if (!/^[A-Za-z0-9!_.*'()/-]+$/.test(value))
    return "may use only letters, digits and !-_.*'()/ (S3 safe characters)";
  return undefined;
};

/** PostgreSQL / Neo4j database names: one identifier, no quoting surprises. */
export const databaseName: Validator = (value) => {
  if (Buffer.byteLength(value) > 63) return 'must be at most 63 bytes';
  if (!/^[A-Za-z_][A-Za-z0-9_$.-]*$/.test(value))
    return 'must start with a letter or "_" and use letters, digits, "_", "$", "-", "."';
  return undefined;
};

/** Database user names: printable, no whitespace. */
export const userName: Validator = (value) => {
  if (Buffer.byteLength(value) > 63) return 'must be at most 63 bytes';
  if (!/^[A-Za-z0-9_.@+-]+$/.test(value)) return 'may use letters, digits and _ . @ + - only';
  return undefined;
};

/** Anything printable on one line: passwords and keys (never echoed, so only shape is checked). */
export const secretText: Validator = (value) => singleLine(value);

export const awsAccessKeyId: Validator = (value) =>
  /^[A-Za-z0-9+/=_-]{3,128}$/.test(value) ? undefined : 'must be 3–128 letters and digits (an access key id)';

export const booleanText: Validator = (value) =>
  /^(true|false|yes|no|1|0)$/i.test(value) ? undefined : 'must be true or false';

export function parseBoolean(value: string | undefined): boolean {
  return value !== undefined && /^(true|yes|1)$/i.test(value);
}

/** Runs validators in order and returns the first message. */
export function firstError(value: string, validators: readonly Validator[]): string | undefined {
  for (const validate of validators) {
    const message = validate(value);
    if (message) return message;
  }
  return undefined;
}
