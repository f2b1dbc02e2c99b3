// Offline schema check of rendered Kubernetes manifests (no cluster needed).
//
//   node check.mjs --models=DIR [--psrec] FILE.yaml...     (FILE "-" reads stdin)
//
// Every object passes two checks:
//  - kubernetes-models' validate(): types, required fields, enums of built-in kinds;
//  - a walk over the object against the attributeTypeMap of @kubernetes/client-node's
//    generated models (in DIR): fields the API does not know, which validate() accepts
//    but the API server would drop or refuse (a misspelled `servicename`, say).
// With --psrec, psrec's own invariant too: the flagfile's --servers equals the
// psrec-server StatefulSet's replicas and --workers the psrec-worker Job's
// parallelism and completions.
// Prints one line per object (`ok FILE: KIND NAME` or `FAIL FILE: KIND NAME: why`); exit 1
// if anything failed, 2 on a usage error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';

const args = process.argv.slice(2);
const modelsDir = args.find((a) => a.startsWith('--models='))?.slice('--models='.length);
const psrecChecks = args.includes('--psrec');
const files = args.filter((a) => !a.startsWith('--'));
if (!modelsDir || files.length === 0) {
  console.error('usage: node check.mjs --models=DIR [--psrec] FILE.yaml...');
  process.exit(2);
}

// Types the walk does not descend into: scalars and free-form values.
const LEAF_TYPES = new Set(['string', 'number', 'boolean', 'any', 'object', 'Date',
  'IntOrString', 'RuntimeRawExtension']);

const modelCache = new Map();
async function attributesOf(type) {
  if (!modelCache.has(type)) {
    let attrs = null;
    try {
      const module = await import(pathToFileURL(join(modelsDir, `${type}.js`)).href);
      attrs = module[type].getAttributeTypeMap();
    } catch {
      attrs = null;
    }
    modelCache.set(type, attrs);
  }
  return modelCache.get(type);
}

// Appends to `errors` every field of `value` that `type` does not define.
async function walk(value, type, path, errors) {
  if (value === null || value === undefined || LEAF_TYPES.has(type)) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return;  // validate() reports type errors
    for (let i = 0; i < value.length; i++) await walk(value[i], array[1], `${path}[${i}]`, errors);
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value)) await walk(v, map[1], `${path}.${k}`, errors);
    return;
  }
  const attrs = await attributesOf(type);
  if (attrs === null) {
    errors.push(`${path}: no schema for type ${type}`);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const attr = attrs.find((a) => a.baseName === key);
    if (!attr) {
      errors.push(`${path}.${key}: unknown field (${type} has: ${attrs.map((a) => a.baseName).join(', ')})`);
      continue;
    }
    await walk(v, attr.type, `${path}.${key}`, errors);
  }
}

// "apps/v1" + "StatefulSet" -> kubernetes-models/apps/v1 and client-node's V1StatefulSet.
function schemaNames(apiVersion, kind) {
  const slash = apiVersion.lastIndexOf('/');
  const version = apiVersion.slice(slash + 1);
  return {
    module: `kubernetes-models/${apiVersion}`,
    type: `${version[0].toUpperCase()}${version.slice(1)}${kind}`,
  };
}

async function checkObject(obj) {
  const errors = [];
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return ['not an object'];
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['no apiVersion or kind'];
  const names = schemaNames(apiVersion, kind);
  let Model;
  try {
    Model = (await import(names.module))[kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [`unknown kind ${kind} in ${apiVersion}`];
  try {
    new Model(obj).validate();
  } catch (e) {
    errors.push(String(e.message ?? e));
  }
  await walk(obj, names.type, kind, errors);
  return errors;
}

function flagValue(flagfile, name) {
  for (const line of flagfile.split('\n')) {
    const m = new RegExp(`^\\s*--${name}=(\\S+)\\s*$`).exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
}

// psrec's invariant across objects: the flags agree with the replica counts.
function checkPsrec(objects) {
  const errors = [];
  const find = (kind, prefix) =>
    objects.find((o) => o?.kind === kind && o?.metadata?.name?.startsWith(prefix));
  const flags = find('ConfigMap', 'psrec-flags');
  const servers = find('StatefulSet', 'psrec-server');
  const workers = find('Job', 'psrec-worker');
  if (!flags || !servers || !workers) {
    return ['psrec: expected a psrec-flags ConfigMap, a psrec-server StatefulSet and a psrec-worker Job'];
  }
  const flagfile = flags.data?.['psrec.flags'] ?? '';
  const wantServers = flagValue(flagfile, 'servers');
  const wantWorkers = flagValue(flagfile, 'workers');
  if (servers.spec?.replicas !== wantServers) {
    errors.push(`psrec: psrec-server has ${servers.spec?.replicas} replicas, psrec.flags says --servers=${wantServers}`);
  }
  for (const field of ['parallelism', 'completions']) {
    if (workers.spec?.[field] !== wantWorkers) {
      errors.push(`psrec: psrec-worker has ${field} ${workers.spec?.[field]}, psrec.flags says --workers=${wantWorkers}`);
    }
  }
  return errors;
}

let failed = false;
for (const file of files) {
  let text;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      console.log(`FAIL ${file}: YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
      failed = true;
      continue;
    }
    const obj = doc.toJS();
    if (obj === null) continue;
    objects.push(obj);
    const label = `${file}: ${obj?.kind ?? '?'} ${obj?.metadata?.name ?? '?'}`;
    const errors = await checkObject(obj);
    if (errors.length === 0) {
      console.log(`ok   ${label}`);
    } else {
      failed = true;
      for (const e of errors) console.log(`FAIL ${label}: ${e}`);
    }
  }
  if (psrecChecks) {
    const errors = checkPsrec(objects);
    for (const e of errors) console.log(`FAIL ${file}: ${e}`);
    if (errors.length > 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);
