import { RunbookError } from '../runbook/errors.js';
import type { Values } from '../runbook/values.js';
import { defaultSessionDir } from './journal-store.js';
import { createInflaterFactory } from './inflate.js';
import { createNetAdapter } from './net.js';
import { createReportFiles } from './report-files.js';
import { createNeo4jAdapter } from './neo4j.js';
import { createProcAdapter } from './proc.js';
import type { Adapters, KubeAdapter, Recorder, S3Adapter } from './types.js';

export interface AdapterConfig {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  values: () => Values;
  record: Recorder;
  currentStep: () => string | undefined;
  /** The session's journal directory (steps that export the report read it). */
  sessionDir?: string;
  /** Variables every child process gets besides the inherited ones (the sandbox's NEO4J_HOME). */
  childEnv?: Readonly<Record<string, string>>;
}

/** The real adapters. Kubernetes and S3 clients are built on first use, once, and their modules load lazily. */
export function createAdapters(config: AdapterConfig): Adapters {
  let kube: Promise<KubeAdapter> | undefined;
  let s3: { key: string; adapter: Promise<S3Adapter> } | undefined;
  const record: Recorder = (event) =>
    config.record('step' in event || event.type !== 'api' ? event : { ...event, step: config.currentStep() });
  return {
    kube() {
      kube ??= import('./kube.js').then(({ createKubeAdapter }) =>
        createKubeAdapter({
          kubeconfig: config.kubeconfig,
          context: config.context,
          namespace: config.namespace,
          record,
        }),
      );
      kube.catch(() => (kube = undefined));
      return kube;
    },
    s3() {
      const values = config.values();
      const bucket = values.get('S3_BUCKET');
      if (!bucket)
        return Promise.reject(
          new RunbookError('S3_BUCKET is not set', { exitCode: 2, next: 'Set S3_BUCKET.' }),
        );
      const accessKeyId = values.get('AWS_ACCESS_KEY_ID');
      const secretAccessKey = values.get('AWS_SECRET_ACCESS_KEY');
      const endpoint = values.get('AWS_ENDPOINT_URL');
      const region = values.get('AWS_DEFAULT_REGION') ?? 'us-east-1';
      // Rebuild when the values it depends on change (typed into a form).
      const key = JSON.stringify([bucket, region, endpoint, accessKeyId?.length, secretAccessKey?.length]);
      if (!s3 || s3.key !== key) {
        s3 = {
          key,
          adapter: import('./s3.js').then(({ createS3Adapter }) =>
            createS3Adapter({
              bucket,
              region,
              endpoint,
              credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
              record,
            }),
          ),
        };
      }
      return s3.adapter;
    },
    proc: createProcAdapter(record, config.currentStep, config.childEnv),
    net: createNetAdapter(),
    neo4j: (connection) => createNeo4jAdapter(connection, record),
    scratchNeo4j: (options) =>
      import('./neo4j-instance.js').then(({ createScratchNeo4j }) => createScratchNeo4j(options)),
    reports: createReportFiles(config.sessionDir ?? defaultSessionDir()),
    inflate: createInflaterFactory(),
  };
}
