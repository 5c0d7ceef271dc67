// Offline validation of rendered Kubernetes manifests (multi-document YAML).
//
//   node validate-k8s.mjs --modules DIR [--expect-kinds K1,K2] [--require-refs] FILE...
//
// --require-refs: every ConfigMap and Secret a pod refers to must be in the
// render (true of a kustomization; a chart may point at existing Secrets).
//
// DIR is a node_modules folder holding the npm packages `kubernetes-models`
// (the Kubernetes 1.3x OpenAPI schemas compiled to validators) and `yaml`.
// Three layers of checks, each reported with the document and the path:
//   1. schema: kubernetes-models' validate() per object (types, required
//      fields, enums, formats), as generated from the Kubernetes OpenAPI spec;
//   2. strict: no field the schema does not define (the OpenAPI schemas allow
//      extra fields, the API server drops them silently; a typo such as
//      `readinesProbe` would pass layer 1), checked against the same models'
//      type declarations;
//   3. policy (this project's own rules, not Kubernetes'): the agent's pods
//      meet the "restricted" Pod Security Standard, have the probes and
//      resources docs/operations.md promises, and selectors match the pods.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
let modulesDir = "";
let expectKinds = [];
let requireRefs = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--modules") modulesDir = args[++i];
  else if (args[i] === "--expect-kinds") expectKinds = args[++i].split(",").filter(Boolean);
  else if (args[i] === "--require-refs") requireRefs = true;
  else files.push(args[i]);
}
if (!modulesDir || files.length === 0) {
  console.error("usage: validate-k8s.mjs --modules NODE_MODULES [--expect-kinds K,..] FILE...");
  process.exit(2);
}
const modelsRoot = path.join(modulesDir, "kubernetes-models");
const { customSchemas, validateCustom } = await import(
  pathToFileURL(path.join(path.dirname(new URL(import.meta.url).pathname), "custom-schemas.mjs")));
const { parseAllDocuments } = await import(pathToFileURL(path.join(modulesDir, "yaml/dist/index.js")));

// ---- layer 2: field sets from the models' .d.ts declarations -------------
// interface name (global, e.g. IIoK8sApiAppsV1DeploymentSpec) -> {field: type}
const globalTypes = new Map();
const localTypes = new Map(); // "file|IName" -> fields
function parseDeclarations(file) {
  const text = fs.readFileSync(file, "utf8");
  const iface = /^export interface (I\w+)(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m.exec(text);
  if (!iface) return;
  const body = iface[2].replace(/\/\*\*[\s\S]*?\*\//g, "");
  const fields = {};
  const lines = body.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^ {4}"([^"]+)"\??: (.*)$/.exec(lines[i]);
    if (!m) continue;
    let type = m[2];
    if (type === "{") type = "map"; // { [key: string]: ... } spans lines
    fields[m[1]] = type.replace(/;$/, "");
  }
  localTypes.set(`${file}|${iface[1]}`, fields);
  const alias = new RegExp(`export type \\{ ${iface[1]} as (\\w+)`).exec(text);
  if (alias) globalTypes.set(alias[1], fields);
}
function walkDeclarations(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walkDeclarations(full);
    else if (entry.name.endsWith(".d.ts")) parseDeclarations(full);
  }
}
walkDeclarations(modelsRoot);
walkDeclarations(path.join(modulesDir, "@kubernetes-models/apimachinery"));

function strictCheck(value, fields, where, errors) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (!(key in fields)) {
      errors.push(`${where}: unknown field "${key}"`);
      continue;
    }
    const type = fields[key];
    const ref = /^(?:Array<)?(IIoK8s\w+)>?$/.exec(type);
    if (!ref || !globalTypes.has(ref[1])) continue; // scalar, enum, map, int-or-string
    const childFields = globalTypes.get(ref[1]);
    if (type.startsWith("Array<") && Array.isArray(child)) {
      child.forEach((item, i) => strictCheck(item, childFields, `${where}.${key}[${i}]`, errors));
    } else {
      strictCheck(child, childFields, `${where}.${key}`, errors);
    }
  }
}

// ---- layer 1: the compiled schema validators ------------------------------
async function loadModel(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const file = group
    ? path.join(modelsRoot, group, version, `${kind}.js`)
    : path.join(modelsRoot, version, `${kind}.js`);
  if (!fs.existsSync(file)) return null;
  const module = await import(pathToFileURL(file));
  return { Model: module[kind], declarations: localTypes.get(`${file.replace(/\.js$/, ".d.ts")}|I${kind}`) };
}

// ---- layer 3: project policy ------------------------------------------------
const podKinds = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job"]);
function durationSeconds(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
}
function podPolicy(doc, where, errors) {
  const spec = doc.spec?.template?.spec ?? {};
  const podSc = spec.securityContext ?? {};
  const need = (ok, what) => ok || errors.push(`${where}: ${what}`);
  need(spec.automountServiceAccountToken === false, "automountServiceAccountToken must be false");
  need(!spec.hostNetwork && !spec.hostPID && !spec.hostIPC, "no host namespaces (PSS restricted)");
  need(podSc.seccompProfile?.type === "RuntimeDefault" || podSc.seccompProfile?.type === "Localhost",
       "pod seccompProfile RuntimeDefault (PSS restricted)");
  const allowedVolumes = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                          "persistentVolumeClaim", "projected", "secret"];
  for (const v of spec.volumes ?? []) {
    const kinds = Object.keys(v).filter((k) => k !== "name");
    need(kinds.every((k) => allowedVolumes.includes(k)), `volume ${v.name}: type ${kinds} not allowed (PSS restricted)`);
  }
  const labels = doc.spec?.template?.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(doc.spec?.selector?.matchLabels ?? {})) {
    need(labels[k] === v, `selector ${k}=${v} does not match the pod template's labels`);
  }
  for (const c of spec.containers ?? []) {
    const sc = c.securityContext ?? {};
    const cw = `${where} container ${c.name}`;
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const uid = sc.runAsUser ?? podSc.runAsUser;
    if (!(nonRoot === true && uid !== 0)) errors.push(`${cw}: runAsNonRoot true and a non-zero UID (PSS restricted)`);
    if (sc.allowPrivilegeEscalation !== false) errors.push(`${cw}: allowPrivilegeEscalation false (PSS restricted)`);
    if (sc.privileged) errors.push(`${cw}: privileged (PSS restricted)`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) errors.push(`${cw}: capabilities.drop [ALL] (PSS restricted)`);
    const added = (sc.capabilities?.add ?? []).filter((x) => x !== "NET_BIND_SERVICE");
    if (added.length) errors.push(`${cw}: adds capabilities ${added} (PSS restricted)`);
    if (sc.readOnlyRootFilesystem !== true) errors.push(`${cw}: readOnlyRootFilesystem true`);
    if (c.livenessProbe?.httpGet?.path !== "/healthz") errors.push(`${cw}: livenessProbe GET /healthz`);
    if (c.readinessProbe?.httpGet?.path !== "/readyz") errors.push(`${cw}: readinessProbe GET /readyz`);
    for (const r of ["requests", "limits"]) {
      for (const k of ["cpu", "memory"]) {
        if (c.resources?.[r]?.[k] === undefined) errors.push(`${cw}: resources.${r}.${k} unset`);
      }
    }
    // The grace rule is the agent's (--shutdown-grace); outpost-hub has no such
    // option: its long polls end at once on SIGTERM.
    if (/outpost-hub/.test(c.image ?? "")) continue;
    const grace = (c.args ?? []).map((a) => /^--shutdown-grace=(.+)$/.exec(a)).find(Boolean);
    const env = (c.env ?? []).find((e) => e.name === "AGENT_SHUTDOWN_GRACE");
    const graceText = grace?.[1] ?? env?.value;
    const terminate = spec.terminationGracePeriodSeconds ?? 30;
    const graceSeconds = graceText ? durationSeconds(graceText) : 30; // agent default
    if (graceSeconds === null) errors.push(`${cw}: unreadable --shutdown-grace "${graceText}"`);
    else if (!(terminate > graceSeconds)) {
      errors.push(`${cw}: terminationGracePeriodSeconds (${terminate}) must exceed --shutdown-grace (${graceSeconds}s)`);
    }
  }
}

// ---- main -------------------------------------------------------------------
let failures = 0;
let checked = 0;
const seen = [];
const podLabelSets = [];
const objects = [];
for (const file of files) {
  const docs = parseAllDocuments(fs.readFileSync(file, "utf8"));
  let index = 0;
  for (const parsed of docs) {
    index++;
    const where0 = `${file}#${index}`;
    if (parsed.errors.length) {
      console.error(`${where0}: YAML error: ${parsed.errors[0].message}`);
      failures++;
      continue;
    }
    const doc = parsed.toJS();
    if (doc === null || doc === undefined) continue;
    objects.push({ doc, where: `${where0} ${doc.kind}/${doc.metadata?.name}` });
  }
}
for (const { doc } of objects) {
  if (podKinds.has(doc.kind)) podLabelSets.push(doc.spec?.template?.metadata?.labels ?? {});
}
const selects = (matchLabels) =>
  podLabelSets.some((labels) => Object.entries(matchLabels ?? {}).every(([k, v]) => labels[k] === v));

for (const { doc, where } of objects) {
  const errors = [];
  checked++;
  seen.push(doc.kind);
  const model = doc.apiVersion && doc.kind ? await loadModel(doc.apiVersion, doc.kind) : null;
  const custom = customSchemas[`${doc.apiVersion}/${doc.kind}`];
  if (custom) {
    // A CRD kubernetes-models does not carry: our own schema (custom-schemas.mjs).
    validateCustom(doc, custom, doc.kind, errors);
  } else if (!model?.Model) {
    errors.push(`unknown apiVersion/kind ${doc.apiVersion}/${doc.kind} (not in the Kubernetes API)`);
  } else {
    try {
      new model.Model(doc).validate();
    } catch (e) {
      errors.push(`schema: ${e.message}`);
    }
    if (model.declarations) strictCheck(doc, model.declarations, doc.kind, errors);
  }
  if (podKinds.has(doc.kind)) podPolicy(doc, doc.kind, errors);
  if (podKinds.has(doc.kind) && requireRefs) {
    const spec = doc.spec?.template?.spec ?? {};
    const have = (kind, name) => objects.some(({ doc: o }) => o.kind === kind && o.metadata?.name === name);
    const refs = [];
    for (const c of spec.containers ?? []) {
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef) refs.push(["ConfigMap", e.configMapRef.name]);
        if (e.secretRef) refs.push(["Secret", e.secretRef.name]);
      }
      for (const e of c.env ?? []) {
        if (e.valueFrom?.configMapKeyRef) refs.push(["ConfigMap", e.valueFrom.configMapKeyRef.name]);
        if (e.valueFrom?.secretKeyRef) refs.push(["Secret", e.valueFrom.secretKeyRef.name]);
      }
    }
    for (const v of spec.volumes ?? []) {
      if (v.configMap) refs.push(["ConfigMap", v.configMap.name]);
      if (v.secret) refs.push(["Secret", v.secret.secretName]);
    }
    for (const [kind, name] of refs) {
      if (!have(kind, name)) errors.push(`refers to ${kind} "${name}", which is not in this render`);
    }
  }
  if (["Service"].includes(doc.kind) && doc.spec?.selector && !selects(doc.spec.selector)) {
    errors.push("Service selector matches no pod template in this render");
  }
  if (["PodDisruptionBudget", "NetworkPolicy"].includes(doc.kind)) {
    const sel = doc.kind === "NetworkPolicy" ? doc.spec?.podSelector : doc.spec?.selector;
    if (!selects(sel?.matchLabels)) errors.push(`${doc.kind} selector matches no pod template in this render`);
  }
  if (doc.kind === "HorizontalPodAutoscaler" || doc.kind === "ScaledObject") {
    const ref = { kind: "Deployment", ...(doc.spec?.scaleTargetRef ?? {}) };
    const found = objects.some(({ doc: o }) => o.kind === ref.kind && o.metadata?.name === ref.name);
    if (!found) errors.push(`scaleTargetRef ${ref.kind}/${ref.name} is not in this render`);
  }
  if (errors.length) {
    failures++;
    for (const e of errors) console.error(`${where}: ${e}`);
  }
}
for (const kind of expectKinds) {
  if (!seen.includes(kind)) {
    console.error(`expected a ${kind} in ${files.join(", ")}, found none`);
    failures++;
  }
}
console.log(`validate-k8s: ${checked} objects in ${files.length} file(s): ${failures ? `${failures} with errors` : "all valid"} [${seen.join(" ")}]`);
process.exit(failures ? 1 : 0);
