/** The restore-neo4j section's spec, step ids and connection inputs. */
import { NEO4J_SPEC, stepIds } from '../restore-kit/spec.js';

export const SPEC = NEO4J_SPEC;

export const SECTION = SPEC.section;

export const IDS = {
  ...stepIds(SPEC),
  memberStopped: `${SECTION}.member-stopped`,
  restore: `${SECTION}.restore`,
  startVerify: `${SECTION}.start-verify`,
};

export const NEO4J_INPUTS = [
  'NEO4J_HOST',
  'NEO4J_BOLT_PORT',
  'NEO4J_DATABASE',
  'NEO4J_USERNAME',
  'NEO4J_PASSWORD',
];
