// The stand-in's graph store, transactions and file formats (backup artifacts, dumps).
//
// A database is a JSON store { databaseId, lastTxId, nextNodeId, nodes[] } plus a transaction log
// (one JSON line per committed transaction: { txId, time, ops[] }). Backup artifacts follow Neo4j 5's
// shape: one immutable file per run, `<db>-<yyyy-mm-ddThh-mm-ss>.backup`, FULL (a store snapshot) or
// DIFF (the transactions lowestTx..highestTx), chained by contiguous transaction ranges.
import { gunzipSync, gzipSync } from 'node:zlib';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CommandError, NEO4J_VERSION } from './common.mjs';

export const BACKUP_MAGIC = 'NEO4J-STANDIN-BACKUP/1';
export const DUMP_MAGIC = 'NEO4J-STANDIN-DUMP/1';

// ---------------------------------------------------------------------------------------------
// Values: JSON primitives, plus datetimes stored as { "$datetime": iso }
// ---------------------------------------------------------------------------------------------
export function datetime(iso = new Date().toISOString()) {
  return { $datetime: iso };
}
export function isDatetime(value) {
  return value !== null && typeof value === 'object' && typeof value.$datetime === 'string';
}
export function valuesEqual(a, b) {
  if (isDatetime(a) || isDatetime(b)) return isDatetime(a) && isDatetime(b) && a.$datetime === b.$datetime;
  return a === b;
}

// ---------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------
/** Applies one transaction's operations to a store (mutates it). */
export function applyOps(store, ops) {
  for (const op of ops) {
    if (op.op === 'create') {
      store.nodes.push(structuredClone(op.node));
      store.nextNodeId = Math.max(store.nextNodeId, op.node.id + 1);
    } else if (op.op === 'set') {
      const node = store.nodes.find((n) => n.id === op.id);
      if (!node) throw new CommandError(`corrupt transaction: node ${op.id} does not exist`);
      if (op.value === null) delete node.properties[op.key];
      else node.properties[op.key] = op.value;
    } else if (op.op === 'delete') {
      store.nodes = store.nodes.filter((n) => n.id !== op.id);
    } else {
      throw new CommandError(`corrupt transaction: unknown operation ${JSON.stringify(op.op)}`);
    }
  }
}

export function applyTransactions(store, txs) {
  for (const tx of txs) {
    if (tx.txId !== store.lastTxId + 1) {
      throw new CommandError(
        `Transaction log is not contiguous: expected transaction ${store.lastTxId + 1} but found ${tx.txId}`,
      );
    }
    applyOps(store, tx.ops);
    store.lastTxId = tx.txId;
  }
}

// ---------------------------------------------------------------------------------------------
// Backup artifacts
// ---------------------------------------------------------------------------------------------
/** yyyy-mm-ddThh-mm-ss (UTC), the time part of an artifact file name. */
export function artifactStamp(date) {
  return date.toISOString().slice(0, 19).replace(/:/g, '-');
}

export function artifactName(database, date) {
  return `${database}-${artifactStamp(date)}.backup`;
}

export function writeArtifact(file, metadata, payload) {
  const body = Buffer.from(JSON.stringify(payload));
  const content = metadata.compressed ? gzipSync(body) : body;
  writeFileSync(
    file,
    Buffer.concat([Buffer.from(`${BACKUP_MAGIC}\n${JSON.stringify(metadata)}\n`), content]),
  );
}

function splitHeader(buffer, magic, file) {
  const first = buffer.indexOf(0x0a);
  const second = first >= 0 ? buffer.indexOf(0x0a, first + 1) : -1;
  if (first < 0 || second < 0 || buffer.subarray(0, first).toString('utf8') !== magic) return undefined;
  try {
    return {
      metadata: JSON.parse(buffer.subarray(first + 1, second).toString('utf8')),
      rest: buffer.subarray(second + 1),
    };
  } catch {
    throw new CommandError(`${file} is corrupt: unreadable header`);
  }
}

/** Metadata only (what `--inspect-path` shows); undefined when the file is not a backup artifact. */
export function readArtifactMetadata(file) {
  const parts = splitHeader(readFileSync(file), BACKUP_MAGIC, file);
  return parts?.metadata;
}

export function readArtifact(file) {
  const parts = splitHeader(readFileSync(file), BACKUP_MAGIC, file);
  if (!parts) throw new CommandError(`${file} is not a Neo4j backup artifact`);
  try {
    const body = parts.metadata.compressed ? gunzipSync(parts.rest) : parts.rest;
    return { metadata: parts.metadata, payload: JSON.parse(body.toString('utf8')) };
  } catch {
    throw new CommandError(`${file} is corrupt: the backup artifact cannot be read`);
  }
}

/** All backup artifacts directly inside a folder, with metadata, oldest transaction range first. */
export function listArtifacts(folder) {
  const result = [];
  for (const name of readdirSync(folder).sort()) {
    const file = join(folder, name);
    if (!name.endsWith('.backup') || !statSync(file).isFile()) continue;
    const metadata = readArtifactMetadata(file);
    if (metadata) result.push({ file, name, metadata });
  }
  return result.sort((a, b) => a.metadata.lowestTx - b.metadata.lowestTx || (a.metadata.full ? -1 : 1));
}

/**
 * The chain ending at `last`: walks back from a differential through contiguous transaction ranges of
 * the same database id to a full backup. Throws like Neo4j when a link is missing.
 */
export function findChain(folder, lastFile) {
  const all = listArtifacts(folder);
  const last = all.find((a) => a.file === lastFile || a.name === basename(lastFile));
  if (!last) throw new CommandError(`${lastFile} is not a backup artifact`);
  const chain = [last];
  let current = last;
  while (!current.metadata.full) {
    const parent = all.find(
      (a) =>
        a.metadata.databaseId === current.metadata.databaseId &&
        a.metadata.highestTx === current.metadata.lowestTx - 1 &&
        a !== current,
    );
    if (!parent) {
      throw new CommandError(
        `Unable to find a complete backup chain ending at ${basename(last.file)} in ${folder}: no artifact with ` +
          `transactions up to ${current.metadata.lowestTx - 1} (a differential backup needs its full backup and ` +
          `every differential in between)`,
      );
    }
    chain.unshift(parent);
    current = parent;
  }
  return chain;
}

/** Rebuilds a store from a chain [FULL, DIFF...]; stops before transaction `untilTx` when given. */
export function storeFromChain(chain, untilTx) {
  const first = readArtifact(chain[0].file);
  const store = structuredClone(first.payload.store);
  const txs = [];
  for (const element of chain.slice(1)) {
    const { payload } = readArtifact(element.file);
    for (const tx of payload.transactions) {
      if (untilTx !== undefined && tx.txId >= untilTx) break;
      if (tx.txId > store.lastTxId) {
        applyTransactions(store, [tx]);
        txs.push(tx);
      }
    }
  }
  return { store, databaseId: chain[0].metadata.databaseId, replayed: txs };
}

// ---------------------------------------------------------------------------------------------
// Dumps (neo4j-admin database dump / load)
// ---------------------------------------------------------------------------------------------
export function dumpBuffer(database, store) {
  const metadata = {
    database,
    databaseId: store.databaseId,
    lastTxId: store.lastTxId,
    time: new Date().toISOString(),
    neo4jVersion: NEO4J_VERSION,
  };
  return Buffer.concat([
    Buffer.from(`${DUMP_MAGIC}\n${JSON.stringify(metadata)}\n`),
    gzipSync(Buffer.from(JSON.stringify({ store }))),
  ]);
}

export function readDump(buffer, file) {
  const parts = splitHeader(buffer, DUMP_MAGIC, file);
  if (!parts) return undefined;
  try {
    return { metadata: parts.metadata, store: JSON.parse(gunzipSync(parts.rest).toString('utf8')).store };
  } catch {
    throw new CommandError(`${file} is corrupt: the dump cannot be read`);
  }
}
