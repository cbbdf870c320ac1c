/** prerequisites.network: TCP from this machine to each database endpoint in scope. */
import type { Check } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { defineStep } from '../define.js';

interface Endpoint {
  id: string;
  label: string;
  host?: string;
  port?: string;
  database: 'postgres' | 'neo4j';
  note?: string;
}

function endpoints(values: Values): Endpoint[] {
  return [
    {
      id: 'postgres',
      label: 'PostgreSQL',
      host: values.get('POSTGRES_HOST'),
      port: values.get('POSTGRES_PORT'),
      database: 'postgres' as const,
    },
    {
      id: 'neo4j-bolt',
      label: 'Neo4j Bolt',
      host: values.get('NEO4J_HOST'),
      port: values.get('NEO4J_BOLT_PORT'),
      database: 'neo4j' as const,
      note: 'Cypher over Bolt (the built-in driver)',
    },
    {
      id: 'neo4j-backup',
      label: 'Neo4j backup port',
      host: values.get('NEO4J_HOST'),
      port: values.get('NEO4J_BACKUP_PORT'),
      database: 'neo4j' as const,
      note: 'neo4j-admin database backup; the server must listen beyond 127.0.0.1 (server.backup.listen_address)',
    },
  ].filter((endpoint) => values.inScope(endpoint.database));
}

export const network = defineStep({
  id: 'prerequisites.network',
  section: 'prerequisites',
  title: 'Database reachability',
  description:
    'TCP from this machine to PostgreSQL, Neo4j Bolt and the Neo4j backup port. The jobs connect from the cluster.',
  inputs: [],
  optionalInputs: ['POSTGRES_HOST', 'POSTGRES_PORT', 'NEO4J_HOST', 'NEO4J_BOLT_PORT', 'NEO4J_BACKUP_PORT'],
  continueOnFailure: true,
  plan: (values) => ({
    actions: endpoints(values).map((endpoint) => ({
      summary: `TCP ${endpoint.label} ${endpoint.host ?? '?'}:${endpoint.port ?? '?'}`,
      command: `timeout 3 bash -c '</dev/tcp/${endpoint.host ?? '$HOST'}/${endpoint.port ?? '$PORT'}'`,
    })),
    notes: [
      'This tests the route from this machine. The backup jobs connect from inside the cluster: troubleshoot runs a probe Job for that.',
    ],
  }),
  async run(ctx) {
    const checks = await Promise.all(
      endpoints(ctx.values).map(async (endpoint): Promise<Check> => {
        const label = `${endpoint.label} ${endpoint.host ?? '?'}:${endpoint.port ?? '?'}`;
        if (!endpoint.host || !endpoint.port) {
          const missing =
            endpoint.database === 'postgres' ? 'POSTGRES_HOST/POSTGRES_PORT' : 'NEO4J_HOST and its ports';
          return { id: endpoint.id, label, status: 'skip', detail: `${missing} not set` };
        }
        const probe = await ctx.adapters.net.tcpProbe(endpoint.host, Number(endpoint.port));
        return probe.ok
          ? {
              id: endpoint.id,
              label,
              status: 'ok',
              detail: `connected in ${probe.ms} ms${endpoint.note ? ` (${endpoint.note})` : ''}`,
            }
          : {
              id: endpoint.id,
              label,
              // From a workstation an in-cluster service name often does not resolve: the jobs may still reach it.
              status: 'warn',
              detail: probe.reason,
              next: `The jobs connect from the cluster; if they fail too, check the Service and NetworkPolicy.${endpoint.id === 'neo4j-backup' ? ' Neo4j listens for backups on 127.0.0.1:6362 by default: set server.backup.listen_address=0.0.0.0:6362.' : ''}`,
            };
      }),
    );
    const reached = checks.filter((check) => check.status === 'ok').length;
    return { summary: `${reached}/${checks.length} reachable from this machine`, checks };
  },
});
