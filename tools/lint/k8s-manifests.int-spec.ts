/**
 * The Kubernetes manifests (`deploy/k8s/`), checked offline: `k8s-check` (tools/k8s-check, built into the cache by
 * `ensureK8sCheck`) renders every overlay with kustomize's API and decodes every object strictly against the
 * Kubernetes API types (k8s.io/api v0.37) and KEDA's CRD schemas (v2.21): an unknown or misspelled field fails. The
 * rendered objects are then held against the code: ports and probes of `@tidemark/service-shell`, consumer groups
 * of `loadServiceConfig`, partition counts of the topic declarations (`@tidemark/bus`). No cluster is involved.
 * An integration spec: the first build needs the Go module proxy.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_PARTITIONS, TOPIC_SPECS, partitionsFor, type TopicSpec } from '@tidemark/bus';
import { DEFAULT_PORTS, SERVICE_NAMES, loadServiceConfig, type ServiceName } from '@tidemark/service-shell';
import { ensureK8sCheck, k8sCheckPaths, layout } from '@tidemark/testing';

const run = promisify(execFile);

/** A rendered object, as k8s-check writes it (`-o`): only the fields these checks read are typed. */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- each kind's own shape, read field by field
  data?: Record<string, string>;
  automountServiceAccountToken?: boolean;
}

/** The grace period each app's shutdown needs (docs/services.md "Lifecycle", CLOSE_TIMEOUT_MS per connection). */
const GRACE_SECONDS = (service: ServiceName) => (service === 'job-state' ? 30 : 60);

/** The consuming pipeline stages scaled by KEDA, and the topics each one's ScaledObject watches. */
const SCALED_STAGES: Readonly<Record<string, readonly string[]>> = {
  agent: ['tidemark.commands'],
  'slice-ingest': ['tidemark.slices.initial', 'tidemark.slices.oplog'],
  'head-builder': ['tidemark.slices.stored'],
  'oplog-applier': ['tidemark.slices.stored'],
  snapshotter: ['tidemark.commands'],
};

function specOf(base: string): TopicSpec {
  const spec = Object.values(TOPIC_SPECS).find((s: TopicSpec) => s.base === base);
  assert.ok(spec, `no topic ${base} in libs/bus/src/topics.ts`);
  return spec;
}

describe('deploy/k8s manifests', { timeout: 30 * 60_000 }, () => {
  let bin: string;
  let out: string;
  const rendered = new Map<string, K8sObject[]>();
  const paths = k8sCheckPaths(layout());

  before(async () => {
    bin = await ensureK8sCheck(layout(), (m) => console.log(m));
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-check-'));
  });

  after(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  it('every overlay renders and every object decodes strictly (k8s.io/api v0.37, KEDA CRDs)', async () => {
    const { stdout } = await run(bin, ['-o', out, ...paths.overlays]);
    console.log(stdout.trim());
    paths.overlays.forEach((dir, i) => {
      assert.match(stdout, new RegExp(`${dir}: \\d+ objects valid`));
      const name = `${i}-${path.basename(dir)}`;
      rendered.set(path.basename(dir), JSON.parse(fs.readFileSync(path.join(out, `${name}.json`), 'utf8')));
    });
    assert.deepEqual([...rendered.keys()], ['dev', 'prod']);
  });

  const objects = (overlay: string, kind: string) => {
    const all = rendered.get(overlay);
    assert.ok(all, `overlay ${overlay} was not rendered`);
    return all.filter((o) => o.kind === kind);
  };
  const one = (overlay: string, kind: string, name: string) => {
    const found = objects(overlay, kind).find((o) => o.metadata.name === name);
    assert.ok(found, `${overlay}: no ${kind} ${name}`);
    return found;
  };

  /** The apps' environment in `overlay`: its ConfigMap, plus stand-ins for the Secret's keys. */
  const appEnv = (overlay: string): Record<string, string> => ({
    ...one(overlay, 'ConfigMap', 'tidemark-endpoints').data,
    SOURCE_MONGODB_URI: 'mongodb://source-0.example:27017/?replicaSet=rs0',
    BACKUP_MONGODB_URI: 'mongodb://backup-0.example:27017/?replicaSet=rs0',
    TIDEMARK_HOME: path.join(out, 'no-home'),
  });

  for (const overlay of ['dev', 'prod']) {
    it(`${overlay}: a Deployment per app with the apps' port, probes, grace period, resources and own ServiceAccount`, () => {
      for (const service of SERVICE_NAMES) {
        const d = one(overlay, 'Deployment', service);
        const pod = d.spec.template.spec;
        const [c] = pod.containers;
        const what = `${overlay}/${service}`;
        assert.equal(c.ports[0].containerPort, DEFAULT_PORTS[service], what);
        assert.equal(c.ports[0].name, 'http', what);
        assert.deepEqual(c.env[0], { name: 'PORT', value: String(DEFAULT_PORTS[service]) }, what);
        assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' }, what);
        assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' }, what);
        assert.equal(pod.terminationGracePeriodSeconds, GRACE_SECONDS(service), what);
        for (const r of ['cpu', 'memory']) {
          assert.ok(c.resources.requests[r] && c.resources.limits[r], `${what}: ${r} request and limit`);
        }
        assert.equal(pod.serviceAccountName, service, what);
        assert.equal(pod.automountServiceAccountToken, false, what);
        const sa = one(overlay, 'ServiceAccount', service);
        assert.equal(sa.automountServiceAccountToken, false, what);
        const annotations = d.spec.template.metadata.annotations;
        assert.equal(annotations['prometheus.io/scrape'], 'true', what);
        assert.equal(annotations['prometheus.io/port'], String(DEFAULT_PORTS[service]), what);
        assert.equal(annotations['prometheus.io/path'], '/metrics', what);
        assert.deepEqual(c.envFrom, [
          { configMapRef: { name: 'tidemark-endpoints' } },
          { secretRef: { name: 'tidemark-credentials' } },
        ]);
        // job-state's admin key and the services' token, required from the Secret by name (docs/api.md, "Access").
        const required = (
          {
            'job-state': ['TIDEMARK_ADMIN_KEY', 'TIDEMARK_SERVICE_TOKEN'],
            agent: ['TIDEMARK_SERVICE_TOKEN'],
          } as Record<string, string[]>
        )[service];
        for (const name of required ?? []) {
          assert.deepEqual(
            c.env.find((e: { name: string }) => e.name === name),
            { name, valueFrom: { secretKeyRef: { name: 'tidemark-credentials', key: name } } },
            `${what}: ${name}`,
          );
        }
      }
    });

    it(`${overlay}: the topics Job runs the job-state image's topics bundle, with the apps' configuration, non-root, within the backends' egress`, () => {
      const job = one(overlay, 'Job', 'tidemark-topics');
      const pod = job.spec.template.spec;
      const [c] = pod.containers;
      assert.match(c.image, /^tidemark\/job-state:/);
      assert.deepEqual(c.command, ['node', '--enable-source-maps', 'dist/tools/topics/main.js', 'ensure']);
      assert.deepEqual(c.envFrom, [
        { configMapRef: { name: 'tidemark-endpoints' } },
        { secretRef: { name: 'tidemark-credentials' } },
      ]);
      assert.equal(pod.restartPolicy, 'OnFailure');
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(
        one(overlay, 'ServiceAccount', pod.serviceAccountName).automountServiceAccountToken,
        false,
      );
      const egress = one(overlay, 'NetworkPolicy', 'allow-backends-egress');
      for (const [k, v] of Object.entries(egress.spec.podSelector.matchLabels as Record<string, string>))
        assert.equal(job.spec.template.metadata.labels[k], v, `the Job's pods carry ${k}=${v}`);
    });

    it(`${overlay}: no credentials in the manifests, no RBAC, default-deny network policies, everything namespaced`, () => {
      const all = rendered.get(overlay)!;
      assert.deepEqual(
        all.filter((o) =>
          ['Secret', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(o.kind),
        ),
        [],
      );
      const deny = one(overlay, 'NetworkPolicy', 'default-deny');
      assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      assert.deepEqual(
        all.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== 'tidemark').map((o) => o.kind),
        [],
      );
    });

    it(`${overlay}: the ConfigMap is a configuration every app accepts (with the Secret's keys filled in)`, () => {
      const env = appEnv(overlay);
      for (const service of SERVICE_NAMES) {
        const c = loadServiceConfig(service, env);
        assert.equal(c.topicPrefix, '');
      }
    });
  }

  it('dev: one replica of every app', () => {
    for (const service of SERVICE_NAMES)
      assert.equal(one('dev', 'Deployment', service).spec.replicas, 1, service);
    assert.deepEqual(objects('dev', 'ScaledObject'), []);
  });

  it('prod: a PodDisruptionBudget and anti-affinity per app', () => {
    for (const service of SERVICE_NAMES) {
      const pdb = one('prod', 'PodDisruptionBudget', service);
      assert.deepEqual(pdb.spec.selector, { matchLabels: { 'app.kubernetes.io/name': service } });
      const anti = one('prod', 'Deployment', service).spec.template.spec.affinity.podAntiAffinity;
      assert.deepEqual(
        anti.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.matchLabelKeys,
        ['app.kubernetes.io/name'],
        service,
      );
    }
  });

  it("prod: a KEDA ScaledObject per consuming stage on its group and topics, bounded by the topics' partitions", () => {
    const scaled = objects('prod', 'ScaledObject');
    assert.deepEqual(scaled.map((s) => s.metadata.name).sort(), Object.keys(SCALED_STAGES).sort());
    const env = appEnv('prod');
    for (const so of scaled) {
      const stage = so.metadata.name as ServiceName;
      assert.equal(so.spec.scaleTargetRef.name, stage);
      assert.ok(so.spec.minReplicaCount >= 1, `${stage}: never scaled to zero`);
      const group = loadServiceConfig(stage, env).consumerGroup;
      const topics: string[] = so.spec.triggers.map(
        (t: { type: string; metadata: Record<string, string> }) => {
          assert.equal(t.type, 'kafka', stage);
          assert.equal(t.metadata['consumerGroup'], group, stage);
          assert.equal(t.metadata['allowIdleConsumers'], 'false', stage);
          assert.equal(
            t.metadata['bootstrapServers'],
            env['KAFKA_BROKERS'],
            `${stage}: scaler and apps on one Kafka`,
          );
          return t.metadata['topic'];
        },
      );
      assert.deepEqual(topics, SCALED_STAGES[stage], stage);
      for (const base of topics) {
        const spec = specOf(base);
        assert.ok(spec.consumers.includes(stage), `${stage} does not consume ${base}`);
        const partitions = partitionsFor(spec, undefined);
        assert.equal(partitions, DEFAULT_PARTITIONS[spec.partitionClass]);
        assert.ok(
          so.spec.maxReplicaCount <= partitions,
          `${stage}: maxReplicaCount ${so.spec.maxReplicaCount} above the ${partitions} partitions of ${base}`,
        );
      }
    }
  });

  /** A copy of deploy/k8s in a temp folder, with `edit` applied to one of its files. */
  function copyWith(file: string, edit: (text: string) => string): string {
    const copy = fs.mkdtempSync(path.join(out, 'copy-'));
    fs.cpSync(path.dirname(path.dirname(paths.overlays[0]!)), copy, { recursive: true });
    const target = path.join(copy, file);
    const before = fs.readFileSync(target, 'utf8');
    const after = edit(before);
    assert.notEqual(after, before, `the edit changed nothing in ${file}`);
    fs.writeFileSync(target, after);
    return copy;
  }

  it('a misspelled Kubernetes field in a copy of an overlay fails the check (replica: for replicas:)', async () => {
    const copy = copyWith('overlays/dev/kustomization.yaml', (t) =>
      t.replace('path: /spec/replicas', 'path: /spec/replica'),
    );
    const err = await run(bin, [path.join(copy, 'overlays', 'dev')]).then(
      () => assert.fail('k8s-check accepted spec.replica'),
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(
      err.stdout,
      /INVALID apps\/v1 Deployment\/job-state: strict decoding error: unknown field "spec.replica"/,
    );
  });

  it('a misspelled KEDA field in a copy of an overlay fails the check (maxReplicas: for maxReplicaCount:)', async () => {
    const copy = copyWith('overlays/prod/keda/oplog-applier.yaml', (t) =>
      t.replace('maxReplicaCount:', 'maxReplicas:'),
    );
    const err = await run(bin, [path.join(copy, 'overlays', 'prod')]).then(
      () => assert.fail('k8s-check accepted spec.maxReplicas'),
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(
      err.stdout,
      /INVALID keda.sh\/v1alpha1 ScaledObject\/oplog-applier: .*unknown field "spec.maxReplicas"/,
    );
  });
});
