import type { Readable } from 'node:stream';
import type { JournalEventBody } from '../runbook/journal.js';
import type { InflaterFactory } from './inflate.js';
import type { ScratchNeo4j } from './neo4j-instance.js';
import type { ReportFiles } from './report-files.js';

/** Where adapters report what they did (method + path + object name; never a secret value). */
export type Recorder = (event: JournalEventBody) => void;

// ---------------------------------------------------------------- Kubernetes

export type { KubeObject } from '../runbook/kube-object.js';
import type { KubeObject } from '../runbook/kube-object.js';

export interface KubeRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface AccessQuery {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface KubeTarget {
  context: string;
  server: string;
  namespace: string;
  user?: string;
}

export interface KubeAdapter {
  readonly target: KubeTarget;
  /** GET /version: proves the API server answers and the credentials work. */
  serverVersion(): Promise<string>;
  namespaceExists(name: string): Promise<boolean>;
  /** SelfSubjectAccessReview, the way `kubectl auth can-i` asks. */
  canI(query: AccessQuery): Promise<{ allowed: boolean; reason?: string }>;
  get(ref: KubeRef): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, namespace: string, labelSelector?: string): Promise<KubeObject[]>;
  /** Server-side apply with field manager db-runbook (or `fieldManager`: a change owned apart from deploy's). */
  apply(
    object: KubeObject,
    options?: { force?: boolean; dryRun?: boolean; fieldManager?: string },
  ): Promise<KubeObject>;
  create(object: KubeObject, options?: { dryRun?: boolean }): Promise<KubeObject>;
  /** PATCH the StatefulSet's scale subresource (what `kubectl scale statefulset/NAME --replicas=N` does). */
  scale(ref: KubeRef, replicas: number): Promise<void>;
  delete(
    ref: KubeRef,
    options?: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' },
  ): Promise<void>;
  /** Pod log; with `follow`, calls onText as lines arrive until the container ends or the signal aborts. */
  podLog(
    namespace: string,
    pod: string,
    options: { follow?: boolean; tailLines?: number; signal?: AbortSignal; onText?: (text: string) => void },
  ): Promise<string>;
}

// ---------------------------------------------------------------- S3

export interface S3Target {
  endpoint?: string;
  bucket: string;
  region: string;
}

export interface S3ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
  etag?: string;
}

export interface S3Head {
  key: string;
  size: number;
  lastModified?: Date;
  metadata: Record<string, string>;
  contentType?: string;
  /** Without quotes. */
  etag?: string;
  versionId?: string;
}

export interface S3Adapter {
  readonly target: S3Target;
  headBucket(): Promise<void>;
  list(prefix: string, options?: { maxKeys?: number }): Promise<S3ObjectInfo[]>;
  head(key: string): Promise<S3Head | undefined>;
  put(
    key: string,
    body: string | Buffer,
    options?: { metadata?: Record<string, string>; contentType?: string },
  ): Promise<void>;
  /** Multipart-capable streaming upload (lib-storage). */
  upload(
    key: string,
    body: Readable,
    options?: { metadata?: Record<string, string>; signal?: AbortSignal },
  ): Promise<void>;
  getStream(
    key: string,
    signal?: AbortSignal,
  ): Promise<{
    body: Readable;
    size?: number;
    metadata: Record<string, string>;
    /** The object's ETag (quotes removed) and, in a versioned bucket, its version: what was read. */
    etag?: string;
    versionId?: string;
  }>;
  getText(key: string, maxBytes?: number): Promise<string | undefined>;
  delete(key: string): Promise<void>;
}

// ---------------------------------------------------------------- processes and network

export interface ProcResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Killed by a signal or the abort signal. */
  interrupted: boolean;
}

export interface ProcOptions {
  /** Added to a minimal inherited environment (PATH, HOME, LANG…). Secrets go here, never into args. */
  env?: Record<string, string>;
  input?: string;
  cwd?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Values to mask in what is journaled and returned in errors. */
  secrets?: readonly string[];
  /**
   * Run the child in its own process group and, on abort, signal the whole group (SIGTERM, then
   * SIGKILL after 10 s): a script's pipeline children (psql, aws, gzip) stop too, instead of bash
   * deferring its trap until the running pipeline ends.
   */
  processGroup?: boolean;
}

export interface ProcAdapter {
  which(binary: string): Promise<string | undefined>;
  run(file: string, args: readonly string[], options?: ProcOptions): Promise<ProcResult>;
}

export interface NetAdapter {
  /** Opens and closes a TCP connection; the reason on failure (refused, timeout, no such host). */
  tcpProbe(
    host: string,
    port: number,
    timeoutMs?: number,
  ): Promise<{ ok: true; ms: number } | { ok: false; reason: string }>;
}

// ---------------------------------------------------------------- Neo4j (Bolt)

export interface Neo4jConnection {
  /** neo4j://host:7687, neo4j+s://…, bolt://… */
  address: string;
  username: string;
  password: string;
}

export interface Neo4jResult {
  keys: string[];
  /** Values as plain JavaScript: integers as numbers, temporals as ISO text, nodes as {labels, properties}. */
  rows: unknown[][];
  /** What the statement changed (nodesCreated, propertiesSet, …). */
  counters: Record<string, number>;
}

export interface Neo4jAdapter {
  readonly target: { address: string; username: string };
  /** One auto-commit statement. Throws Neo4jError (auth, unavailable, database-not-found, …). */
  run(
    statement: string,
    options?: {
      database?: string;
      params?: Record<string, unknown>;
      signal?: AbortSignal;
      timeoutMs?: number;
      connectTimeoutMs?: number;
    },
  ): Promise<Neo4jResult>;
}

/** What steps receive. Kubernetes and S3 clients are created on first use (their modules load lazily). */
export interface Adapters {
  kube(): Promise<KubeAdapter>;
  s3(): Promise<S3Adapter>;
  proc: ProcAdapter;
  net: NetAdapter;
  /** Cypher over Bolt with the official driver (no cypher-shell, no Java on this machine). */
  neo4j(connection: Neo4jConnection): Neo4jAdapter;
  /** A second, isolated Neo4j on this machine (the drill of a Community server), from a local distribution. */
  scratchNeo4j(options: { binDir: string; libDir: string }): Promise<ScratchNeo4j>;
  /** Report files beside this session's journal (the drill exports its report). */
  reports: ReportFiles;
  /** Gzip inflater for integrity/verify passes (igzip child when installed, else zlib); zlib when absent. */
  inflate?: InflaterFactory;
}
