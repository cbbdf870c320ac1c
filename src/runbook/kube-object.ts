/** A Kubernetes object as the API returns it and the runbook reads it (plain JSON, any kind). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    ownerReferences?: Record<string, unknown>[];
    managedFields?: {
      manager?: string;
      operation?: string;
      time?: string;
      fieldsV1?: Record<string, unknown>;
    }[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}
