// Validates deploy/ without a cluster or a Docker engine (deploy/validate.sh runs it):
//  - every YAML file under deploy/ parses (every document);
//  - every Kubernetes and KEDA resource (deploy/k8s/**, and the files given as arguments, e.g. the output of
//    `sg deploy keda`) validates against its schema (kubernetes-models, @kubernetes-models/keda);
//  - what the manifests must say for sg-streams: probes on the admin port (/ready, /health), SG_NODE_ID from the pod
//    name, a grace period longer than the drain, a memory limit, a ScaledObject on an existing worker Deployment
//    with at least one replica, scaling on lagCount;
//  - the Grafana dashboard is JSON on the provisioned datasource; its queries are written to --exprs-out for promtool.
// Usage: node validate.mjs DEPLOY_DIR [--exprs-out FILE] [EXTRA_YAML...]
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";

const MODELS = new Map(
  [ConfigMap, Secret, Service, Deployment, PodDisruptionBudget, ScaledObject, TriggerAuthentication].map((m) => [
    `${m.apiVersion}/${m.kind}`,
    m,
  ]),
);

const args = process.argv.slice(2);
const deployDir = path.resolve(args.shift() ?? "..");
let exprsOut = null;
const extra = [];
while (args.length) {
  const a = args.shift();
  if (a === "--exprs-out") exprsOut = args.shift();
  else extra.push(path.resolve(a));
}

const errors = [];
let checked = 0;
const fail = (where, msg) => errors.push(`${where}: ${msg}`);

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : walk(p);
    return [p];
  });
}

function parseYaml(file) {
  const docs = parseAllDocuments(fs.readFileSync(file, "utf8"));
  const out = [];
  docs.forEach((d, i) => {
    if (d.errors.length) d.errors.forEach((e) => fail(`${file} (document ${i + 1})`, e.message));
    else {
      const v = d.toJS();
      if (v != null) out.push(v);
    }
  });
  return out;
}

const rel = (f) => path.relative(path.dirname(deployDir), f);
const all = walk(deployDir);
const yamlFiles = all.filter((f) => /\.ya?ml$/.test(f));
const parsed = new Map(yamlFiles.map((f) => [f, parseYaml(f)]));
for (const f of extra) parsed.set(f, parseYaml(f));

// Kubernetes and KEDA resources: deploy/k8s/** and the extra files
const resources = [];
for (const [file, docs] of parsed) {
  const isK8s = file.startsWith(path.join(deployDir, "k8s") + path.sep) || extra.includes(file);
  if (!isK8s) continue;
  for (const doc of docs) {
    const where = `${rel(file)} ${doc.kind ?? "?"}/${doc.metadata?.name ?? "?"}`;
    if (doc.kind === "Kustomization") {
      for (const r of doc.resources ?? []) {
        if (!fs.existsSync(path.join(path.dirname(file), r))) fail(where, `resource ${r} does not exist`);
      }
      continue;
    }
    const Model = MODELS.get(`${doc.apiVersion}/${doc.kind}`);
    if (!Model) {
      fail(where, `no schema known for ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    try {
      new Model(doc).validate();
      checked++;
      resources.push({ where, doc, file });
    } catch (e) {
      fail(where, `schema: ${e.message}`);
    }
  }
}

// sg-streams specifics
const byKind = (k) => resources.filter((r) => r.doc.kind === k);
const config = Object.assign({}, ...byKind("ConfigMap").map((r) => r.doc.data ?? {}));
const drainMs = Number(config.SG_DRAIN_TIMEOUT_MS ?? 10000);
const deployments = byKind("Deployment");
for (const { where, doc } of deployments) {
  const spec = doc.spec.template.spec;
  const c = spec.containers[0];
  const admin = (c.ports ?? []).find((p) => p.name === "admin");
  if (!admin) fail(where, "no container port named admin");
  if (c.readinessProbe?.httpGet?.path !== "/ready" || c.readinessProbe?.httpGet?.port !== "admin")
    fail(where, "readiness must be GET /ready on the admin port");
  if (c.livenessProbe?.httpGet?.path !== "/health" || c.livenessProbe?.httpGet?.port !== "admin")
    fail(where, "liveness must be GET /health on the admin port");
  const nodeId = (c.env ?? []).find((e) => e.name === "SG_NODE_ID");
  if (nodeId?.valueFrom?.fieldRef?.fieldPath !== "metadata.name") fail(where, "SG_NODE_ID must come from metadata.name");
  if (!((spec.terminationGracePeriodSeconds ?? 30) * 1000 > drainMs))
    fail(where, `terminationGracePeriodSeconds must exceed SG_DRAIN_TIMEOUT_MS (${drainMs} ms)`);
  if (!c.resources?.limits?.memory) fail(where, "no memory limit");
  const pdb = byKind("PodDisruptionBudget").find(
    (p) => p.doc.spec.selector?.matchLabels?.["app.kubernetes.io/name"] === doc.spec.selector.matchLabels["app.kubernetes.io/name"],
  );
  if (!pdb && deployments.length > 0 && where.includes("k8s")) fail(where, "no PodDisruptionBudget selects it");
}
for (const { where, doc, file } of byKind("ScaledObject")) {
  const target = doc.spec.scaleTargetRef?.name;
  const inBase = file.startsWith(path.join(deployDir, "k8s"));
  if (inBase && !deployments.some((d) => d.doc.metadata.name === target)) fail(where, `scales ${target}: no such Deployment`);
  if (!((doc.spec.minReplicaCount ?? 0) >= 1)) fail(where, "minReplicaCount must be at least 1 (KEDA reads a nil lag as 0)");
  const triggers = doc.spec.triggers ?? [];
  const formula = doc.spec.advanced?.scalingModifiers?.formula;
  if (triggers.length > 1) {
    // partitions: one trigger per inbound partition, named, summed by scalingModifiers
    const names = triggers.map((t) => t.name);
    if (names.some((n) => !n) || new Set(names).size !== names.length) fail(where, "several triggers: each needs a unique name");
    if (!formula || formula.split("+").map((x) => x.trim()).sort().join(",") !== [...names].sort().join(","))
      fail(where, "several triggers: advanced.scalingModifiers.formula must sum every trigger (p0 + p1 + …)");
    if (!doc.spec.advanced?.scalingModifiers?.target) fail(where, "scalingModifiers needs a target");
  }
  for (const t of triggers) {
    if (t.type === "prometheus") {
      if (!t.metadata?.serverAddress || !t.metadata?.query?.includes("sg_stream_lag") || !t.metadata?.threshold)
        fail(where, "prometheus trigger must query sg_stream_lag with a threshold");
      continue;
    }
    const cluster = t.type === "redis-cluster-streams";
    if (!(t.type === "redis-streams" || cluster) || !t.metadata?.lagCount || !t.metadata?.consumerGroup || !t.metadata?.stream)
      fail(where, "trigger must be redis-streams or redis-cluster-streams with stream, consumerGroup and lagCount");
    if (cluster ? !t.metadata?.addresses : !t.metadata?.address) fail(where, `${t.type} needs ${cluster ? "addresses" : "address"}`);
    if (t.metadata?.password || t.metadata?.username) fail(where, "credentials inline: use authenticationRef");
    if (t.authenticationRef && !byKind("TriggerAuthentication").some((a) => a.doc.metadata.name === t.authenticationRef.name))
      fail(where, `authenticationRef ${t.authenticationRef.name}: no such TriggerAuthentication`);
  }
}

// Grafana: the dashboard parses, uses the provisioned datasource; its queries go to promtool
const dsFile = path.join(deployDir, "grafana/provisioning/datasources/prometheus.yml");
const dsUid = parsed.get(dsFile)?.[0]?.datasources?.[0]?.uid;
const exprs = [];
for (const f of all.filter((f) => f.startsWith(path.join(deployDir, "grafana/dashboards")) && f.endsWith(".json"))) {
  let dash;
  try {
    dash = JSON.parse(fs.readFileSync(f, "utf8"));
  } catch (e) {
    fail(rel(f), `not JSON: ${e.message}`);
    continue;
  }
  const dsVar = (dash.templating?.list ?? []).find((v) => v.type === "datasource");
  if (!dsVar || dsVar.current?.value !== dsUid) fail(rel(f), `datasource variable must default to the provisioned uid ${dsUid}`);
  for (const p of dash.panels ?? []) {
    for (const t of p.targets ?? []) {
      if (!t.expr) continue;
      exprs.push({ panel: p.title, expr: t.expr.replaceAll("$__rate_interval", "5m").replaceAll("$stream", ".*") });
    }
  }
}
if (exprs.length === 0) fail("grafana", "no dashboard queries found");
if (exprsOut) {
  // a rule file promtool can check: one recording rule per dashboard query
  const rules = exprs.map((e, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(e.expr)}`);
  fs.writeFileSync(exprsOut, `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`);
}

const files = parsed.size;
if (errors.length) {
  errors.forEach((e) => console.error(`  ${e}`));
  console.error(`validate: ${errors.length} problem(s) in ${files} YAML files`);
  process.exit(1);
}
console.log(`validate: ${files} YAML files parse; ${checked} Kubernetes/KEDA resources valid; ${exprs.length} dashboard queries collected`);
