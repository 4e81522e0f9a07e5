#!/usr/bin/env node
// Validates every YAML document under infra/k8s without a cluster, and builds each kustomization the way
// `kubectl apply -k` would for the subset of kustomize these manifests use, validating the results too.
//
//   node infra/k8s/validate.mjs [DIR]            exit 0 when everything is valid, else one line per error
//   node infra/k8s/validate.mjs [DIR] --json     also print {"builds": {"infra/k8s/overlays/dev": [resource, ...], ...},
//                                                "files": {"infra/k8s/base/labeller.yaml": [document, ...], ...}}
//
// Schemas: npm kubernetes-models and @kubernetes-models/keda (pinned; tests/run.sh installs them into
// .infra/node, MORLAIF_NODE_MODULES overrides where). Their validators (ajv, from the Kubernetes OpenAPI and
// KEDA's CRDs) check types, enums and required fields; they accept unknown fields, as the OpenAPI schemas
// allow them, so a misspelt field is caught here separately: every object's keys are checked against the
// fields the package's type declarations (.d.ts, generated from the same schemas) name.
// RabbitmqCluster (rabbitmq.com/v1beta1) is in no pinned package: it gets a hand-written check (RABBITMQ_SPEC
// below) of its fields' names and types, with its resources, affinity and tolerations checked as the
// Kubernetes types they are; not the operator's full CRD schema.
//
// Kustomize subset: a Kustomization's namespace, resources (files, or folders with a kustomization.yaml),
// images (name -> newName/newTag) and patches (path: a strategic-merge patch matched by kind and name). The
// strategic merge here merges maps, merges the lists containers, initContainers, env and volumes by their
// `name` (their merge key in Kubernetes) and replaces every other list, which is what Kubernetes does for
// the lists these patches touch. Any other kustomization field, or a $patch directive, is an error, so a
// build here never silently differs from kustomize's.
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join, relative, dirname, resolve, sep } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const root = resolve(args.find(a => !a.startsWith("--")) ?? here);
const wantJson = args.includes("--json");
const modules = process.env.MORLAIF_NODE_MODULES ?? resolve(here, "../../.infra/node/node_modules");
if (!existsSync(join(modules, "kubernetes-models"))) {
  console.error(`${modules}/kubernetes-models is missing: npm install --prefix .infra/node kubernetes-models@5.1.0 @kubernetes-models/keda@2.0.0 yaml@2.9.1`);
  process.exit(2);
}
const load = p => import(pathToFileURL(join(modules, p)).href);
const YAML = await load("yaml/dist/index.js");

const errors = [];
const fail = (where, path, message) => errors.push(`${where}: ${path ? path + ": " : ""}${message}`);
const repo = resolve(here, "../..");
const rel = f => relative(f.startsWith(repo + sep) ? repo : dirname(root), f).split(sep).join("/");

// ---- where a kind's model lives -------------------------------------------------------------------------
function modelPath(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  if (apiVersion === "v1") return `kubernetes-models/v1/${kind}`;
  if (apiVersion.startsWith("keda.sh/")) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  const [group, version] = apiVersion.split("/");
  if (!version) return null;
  return `kubernetes-models/${group}/${version}/${kind}`; // apps/v1, networking.k8s.io/v1, ...
}

// ---- the fields a type declares, from the .d.ts files ---------------------------------------------------
const declared = new Map(); // file -> object type (or null: not an interface)
function tokens(src) {
  const out = [];
  const re = /\s+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_$][\w$.]*|\d+|[{}()[\]<>;:?,|&=]/y;
  for (let m; re.lastIndex < src.length;) {
    const at = re.lastIndex;
    if (!(m = re.exec(src))) { re.lastIndex = at + 1; continue; }
    if (!/^\s+$/.test(m[0])) out.push(m[0]);
  }
  return out;
}
function parseType(t, file) {
  const alts = [parsePrimary(t, file)];
  while (t[0] === "|" || t[0] === "&") { t.shift(); alts.push(parsePrimary(t, file)); }
  return alts.length === 1 ? alts[0] : { kind: "union", of: alts };
}
function parsePrimary(t, file) {
  let type;
  const tok = t.shift();
  if (tok === "(") { type = parseType(t, file); t.shift(); }
  else if (tok === "{") type = parseMembers(t, file);
  else if (tok === "Array") { t.shift(); type = { kind: "array", of: parseType(t, file) }; t.shift(); }
  else if (/^[A-Z]/.test(tok) && tok.startsWith("I")) type = { kind: "ref", name: tok, file };
  else type = { kind: "leaf" }; // string, number, boolean, any, literals, other aliases
  while (t[0] === "[" && t[1] === "]") { t.shift(); t.shift(); type = { kind: "array", of: type }; }
  return type;
}
function parseMembers(t, file) {
  const props = new Map();
  let index = null;
  while (t.length && t[0] !== "}") {
    if (t[0] === "[") { // [key: string]: T
      while (t.shift() !== "]");
      t.shift();
      index = parseType(t, file);
    } else {
      const name = t.shift().replace(/^["']|["']$/g, "");
      if (t[0] === "?") t.shift();
      t.shift(); // :
      props.set(name, parseType(t, file));
    }
    if (t[0] === ";" || t[0] === ",") t.shift();
  }
  t.shift(); // }
  return { kind: "object", props, index };
}
function interfaceOf(file) {
  if (declared.has(file)) return declared.get(file);
  declared.set(file, null);
  if (!existsSync(file)) return null;
  const src = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const imports = new Map();
  for (const m of src.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g))
    for (const name of m[1].split(",").map(s => s.trim()).filter(Boolean)) imports.set(name, m[2]);
  const body = src.match(/export interface \w+(?:\s+extends\s+[\w, ]+)?\s*\{/);
  if (!body) return null;
  const type = parseMembers(tokens(src.slice(body.index + body[0].length)), file);
  type.imports = imports;
  declared.set(file, type);
  return type;
}
function resolveRef(ref) {
  const from = interfaceOf(ref.file);
  const spec = from?.imports.get(ref.name);
  if (!spec) return null;
  const target = spec.startsWith(".") ? resolve(dirname(ref.file), spec) : join(modules, spec);
  return interfaceOf(target.replace(/\.js$/, "") + ".d.ts");
}
// Reports the keys of `data` that its declared type does not name.
function unknownFields(data, type, path, report) {
  if (!type || data === null || typeof data !== "object") return;
  if (type.kind === "ref") return unknownFields(data, resolveRef(type), path, report);
  if (type.kind === "union") {
    const objectish = type.of.find(o => o.kind === "ref" || o.kind === "object");
    return unknownFields(data, objectish, path, report);
  }
  if (type.kind === "array") {
    if (Array.isArray(data)) data.forEach((item, i) => unknownFields(item, type.of, `${path}[${i}]`, report));
    return;
  }
  if (type.kind !== "object" || Array.isArray(data)) return;
  for (const [key, value] of Object.entries(data)) {
    const at = path ? `${path}.${key}` : key;
    const field = type.props.get(key) ?? type.index;
    if (!field) report(at, `unknown field "${key}"`);
    else unknownFields(value, field, at, report);
  }
}

// ---- RabbitmqCluster: the operator's spec fields (api/v1beta1/rabbitmqcluster_types.go), by hand --------
const str = v => typeof v === "string";
const int = v => Number.isInteger(v) && v >= 0;
const strMap = v => v && typeof v === "object" && !Array.isArray(v) && Object.values(v).every(str);
const RABBITMQ_SPEC = {
  replicas: int, image: str, imagePullSecrets: Array.isArray, skipPostDeploySteps: v => typeof v === "boolean",
  autoEnableAllFeatureFlags: v => typeof v === "boolean", terminationGracePeriodSeconds: int, delayStartSeconds: int,
  service: { type: v => ["ClusterIP", "LoadBalancer", "NodePort"].includes(v), annotations: strMap, labels: strMap,
    ipFamilyPolicy: v => ["SingleStack", "PreferDualStack", "RequireDualStack"].includes(v) },
  persistence: { storageClassName: str, storage: v => str(v) || int(v), emptyDir: v => v && typeof v === "object" },
  resources: "kubernetes-models/v1/ResourceRequirements", affinity: "kubernetes-models/v1/Affinity",
  tolerations: "kubernetes-models/v1/Toleration[]",
  rabbitmq: { additionalPlugins: v => Array.isArray(v) && v.length <= 100 && v.every(p => str(p) && /^\w+$/.test(p)),
    additionalConfig: v => str(v) && v.length <= 100000, advancedConfig: v => str(v) && v.length <= 100000,
    envConfig: v => str(v) && v.length <= 100000 && !v.includes("$(") && !v.includes("`"), erlangInetConfig: v => str(v) && v.length <= 2000 },
  tls: { secretName: str, caSecretName: str, disableNonTLSListeners: v => typeof v === "boolean" },
  override: v => v && typeof v === "object", secretBackend: v => v && typeof v === "object",
};
async function checkRabbitmqCluster(doc, report) {
  const spec = doc.spec ?? {};
  for (const key of Object.keys(doc)) if (!["apiVersion", "kind", "metadata", "spec"].includes(key)) report(key, `unknown field "${key}"`);
  const walk = async (obj, shape, path) => {
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) return report(path, "must be an object");
    for (const [key, value] of Object.entries(obj)) {
      const at = `${path}.${key}`, rule = shape[key];
      if (rule === undefined) report(at, `unknown field "${key}"`);
      else if (typeof rule === "function") { if (!rule(value)) report(at, "has the wrong type or value"); }
      else if (typeof rule === "string") {
        const many = rule.endsWith("[]"), p = rule.replace(/\[\]$/, "");
        if (many && !Array.isArray(value)) { report(at, "must be an array"); continue; }
        for (const [i, item] of (many ? value : [value]).entries())
          await checkModel(item, p, many ? `${at}[${i}]` : at, report);
      } else await walk(value, rule, at);
    }
  };
  await walk(spec, RABBITMQ_SPEC, "spec");
}

// ---- one document against its model --------------------------------------------------------------------
async function checkModel(data, path, at, report) {
  const mod = await load(`${path}.js`);
  const cls = Object.values(mod).find(v => typeof v === "function");
  try { new cls(data).validate(); }
  catch (e) {
    for (const err of e.errors ?? [{ instancePath: "", message: e.message }])
      report(joinPath(at, err.instancePath), err.message + (err.params?.allowedValues ? ` (${err.params.allowedValues.join(", ")})` : ""));
  }
  unknownFields(data, interfaceOf(join(modules, `${path}.d.ts`)), at, report);
}
const joinPath = (at, pointer) => {
  const rest = pointer.split("/").filter(Boolean).map(s => /^\d+$/.test(s) ? `[${s}]` : `.${s}`).join("");
  return (at + rest).replace(/^\./, "");
};

const reportedFor = new Map(); // "file#index" -> "path: message" already reported for that document
async function checkResource(doc, where, source) {
  const seen = reportedFor.get(source) ?? new Set();
  reportedFor.set(source, seen);
  const report = (path, message) => {
    if (seen.has(`${path}: ${message}`)) return; // a build repeats what its source document already got
    seen.add(`${path}: ${message}`);
    fail(where, path, message);
  };
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) return report("", "is not a mapping");
  if (!doc.metadata?.name) report("metadata.name", "is required");
  if (doc.apiVersion === "rabbitmq.com/v1beta1" && doc.kind === "RabbitmqCluster") {
    await checkModel(doc.metadata ?? {}, "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta", "metadata", report);
    return checkRabbitmqCluster(doc, report);
  }
  const path = modelPath(doc.apiVersion, doc.kind);
  if (!path || !existsSync(join(modules, `${path}.js`)))
    return report("", `no schema for apiVersion "${doc.apiVersion}" kind "${doc.kind}"`);
  await checkModel(doc, path, "", report);
  if (doc.apiVersion?.startsWith("keda.sh/") && doc.kind === "ScaledObject")
    for (const [i, t] of (doc.spec?.triggers ?? []).entries()) if (t?.type === "rabbitmq")
      for (const key of Object.keys(t.metadata ?? {}))
        if (!RABBITMQ_TRIGGER.includes(key)) report(`spec.triggers[${i}].metadata.${key}`, `unknown rabbitmq trigger field "${key}"`);
}
// The rabbitmq scaler's trigger metadata (KEDA 2.x, pkg/scalers/rabbitmq_scaler.go): a free-form map in the CRD.
const RABBITMQ_TRIGGER = ["host", "hostFromEnv", "usernameFromEnv", "passwordFromEnv", "protocol", "mode", "value",
  "activationValue", "queueName", "vhostName", "queueLength", "useRegex", "excludeUnacknowledged", "pageSize",
  "operation", "timeout", "unsafeSsl"];

// ---- files ----------------------------------------------------------------------------------------------
function yamlFiles(dir) {
  return readdirSync(dir).sort().flatMap(name => {
    const f = join(dir, name);
    if (statSync(f).isDirectory()) return name === "node_modules" ? [] : yamlFiles(f);
    return /\.ya?ml$/.test(name) ? [f] : [];
  });
}
const parsed = new Map(); // file -> documents
function documents(file) {
  if (parsed.has(file)) return parsed.get(file);
  const docs = [];
  for (const [i, d] of YAML.parseAllDocuments(readFileSync(file, "utf8")).entries()) {
    for (const e of d.errors) fail(`${rel(file)}: document ${i + 1}`, "", `YAML: ${e.message.split("\n")[0]}`);
    const value = d.toJS();
    if (value !== null && value !== undefined) docs.push({ index: i + 1, value });
  }
  parsed.set(file, docs);
  return docs;
}
const describe = (file, d) => `${rel(file)}: document ${d.index} (${d.value?.kind ?? "?"} ${d.value?.metadata?.name ?? "?"})`;

// ---- kustomize (the subset above) -----------------------------------------------------------------------
const KUSTOMIZATION_FIELDS = ["apiVersion", "kind", "namespace", "resources", "patches", "images"];
const MERGE_BY_NAME = new Set(["containers", "initContainers", "env", "volumes"]);
function merge(base, patch, path, where) {
  if (Array.isArray(patch)) {
    const key = path.split(".").pop();
    if (!MERGE_BY_NAME.has(key) || !Array.isArray(base)) return structuredClone(patch);
    const out = structuredClone(base);
    for (const item of patch) {
      const i = out.findIndex(b => b?.name === item?.name);
      if (i < 0) out.push(structuredClone(item)); else out[i] = merge(out[i], item, `${path}[]`, where);
    }
    return out;
  }
  if (patch && typeof patch === "object") {
    if ("$patch" in patch) fail(where, path, "$patch directives are not supported by this validator");
    const out = base && typeof base === "object" && !Array.isArray(base) ? structuredClone(base) : {};
    for (const [k, v] of Object.entries(patch)) out[k] = v === null ? undefined : merge(out[k], v, path ? `${path}.${k}` : k, where);
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    return out;
  }
  return patch;
}
function splitImage(image) {
  const at = image.indexOf("@"), base = at >= 0 ? image.slice(0, at) : image;
  const colon = base.lastIndexOf(":");
  return colon > base.lastIndexOf("/") ? [base.slice(0, colon), base.slice(colon)] : [base, at >= 0 ? image.slice(at) : ""];
}
const patchFiles = new Set();
function build(dir, stack = []) {
  const file = ["kustomization.yaml", "kustomization.yml"].map(n => join(dir, n)).find(existsSync);
  const where = rel(file ?? dir);
  if (!file) { fail(where, "", "no kustomization.yaml"); return []; }
  if (stack.includes(dir)) { fail(where, "", "kustomization cycle"); return []; }
  const k = documents(file)[0]?.value ?? {};
  for (const key of Object.keys(k)) if (!KUSTOMIZATION_FIELDS.includes(key)) fail(where, key, `unknown or unsupported kustomization field "${key}"`);
  if (k.apiVersion !== "kustomize.config.k8s.io/v1beta1" || k.kind !== "Kustomization") fail(where, "", "not a kustomize.config.k8s.io/v1beta1 Kustomization");
  let out = [];
  for (const [i, r] of (k.resources ?? []).entries()) {
    const target = resolve(dir, r);
    if (!existsSync(target)) { fail(where, `resources[${i}]`, `"${r}" does not exist`); continue; }
    if (statSync(target).isDirectory()) out.push(...build(target, [...stack, dir]));
    else out.push(...documents(target).map(d => ({ ...d, file: target, source: JSON.stringify(d.value), value: structuredClone(d.value) })));
  }
  for (const [i, p] of (k.patches ?? []).entries()) {
    const at = `patches[${i}]`;
    for (const key of Object.keys(p ?? {})) if (key !== "path") fail(where, `${at}.${key}`, "only patches with a path are supported");
    const target = p?.path && resolve(dir, p.path);
    if (!target || !existsSync(target)) { fail(where, at, `"${p?.path}" does not exist`); continue; }
    patchFiles.add(target);
    for (const d of documents(target)) {
      const hit = out.find(r => r.value.kind === d.value.kind && r.value.metadata?.name === d.value.metadata?.name);
      if (!hit) fail(`${rel(target)}: document ${d.index}`, "", `patches no resource of ${where} (${d.value.kind} ${d.value.metadata?.name})`);
      else {
        hit.value = merge(hit.value, d.value, "", `${rel(target)}: document ${d.index}`);
        hit.patchedBy = [...(hit.patchedBy ?? []), rel(target)];
      }
    }
  }
  for (const [i, img] of (k.images ?? []).entries()) {
    const used = out.some(r => (r.value.spec?.template?.spec?.containers ?? []).some(c => splitImage(c.image ?? "")[0] === img.name));
    if (!used) fail(where, `images[${i}]`, `no container uses the image "${img.name}"`);
    for (const r of out)
      for (const c of r.value.spec?.template?.spec?.containers ?? []) {
        const [name, tag] = splitImage(c.image ?? "");
        if (name === img.name) c.image = (img.newName ?? name) + (img.newTag ? `:${img.newTag}` : img.digest ? `@${img.digest}` : tag);
      }
  }
  if (k.namespace) for (const r of out) if (r.value.kind !== "Namespace") (r.value.metadata ??= {}).namespace = k.namespace;
  const seen = new Set();
  for (const r of out) {
    const id = `${r.value.kind}/${r.value.metadata?.name}`;
    if (seen.has(id)) fail(where, "", `${id} comes twice`);
    seen.add(id);
  }
  return out;
}

// ---- run ------------------------------------------------------------------------------------------------
const files = yamlFiles(root);
const kustomizations = files.filter(f => /[\\/]kustomization\.ya?ml$/.test(f));
const builds = {};
for (const k of kustomizations) builds[rel(dirname(k))] = build(dirname(k));
for (const f of files) {
  if (kustomizations.includes(f) || patchFiles.has(f)) continue; // patches are checked as patched, below
  for (const d of documents(f)) await checkResource(d.value, describe(f, d), `${f}#${d.index}`);
}
// What a build changed (a patch, an image, the namespace) is checked again as built; the rest was checked above.
for (const [name, resources] of Object.entries(builds))
  for (const r of resources)
    if (JSON.stringify(r.value) !== r.source) await checkResource(r.value, `${name} (built): ${describe(r.file, r)}${r.patchedBy ? ` patched by ${r.patchedBy.join(", ")}` : ""}`, `${r.file}#${r.index}`);

const unique = [...new Set(errors)];
if (wantJson) console.log(JSON.stringify({
  builds: Object.fromEntries(Object.entries(builds).map(([k, v]) => [k, v.map(r => r.value)])),
  files: Object.fromEntries(files.map(f => [rel(f), documents(f).map(d => d.value)])),
}));
for (const e of unique) console.error(e);
if (unique.length) { console.error(`${unique.length} error(s) in ${rel(root)}`); process.exit(1); }
console.error(`${files.length} files, ${Object.keys(builds).length} kustomizations under ${rel(root)}: valid`);
