/**
 * deploy/ cannot rot. Kubernetes: every manifest under deploy/kubernetes/ is validated against the
 * Kubernetes API schemas (kubernetes-models), the Jobs are checked against issue 11 (Indexed,
 * completions = parallelism = --shards, backoffLimitPerIndex 0, one shard per node, non-root), the
 * profile ConfigMap resolves, launch.sh and the merge Job's wait script run against a stand-in
 * kubectl, and the Jobs' command lines run as local processes (JOB_COMPLETION_INDEX set as the Job
 * controller sets it) against `smtpbench serve`, then the merge Job's. GitHub Actions: the matrix
 * workflow's structure, and its `run:` steps executed as the runners would. The image: the
 * Dockerfile's structure, and its runtime stage replayed (`npm ci --omit=dev` from the lockfile,
 * its COPYs) so that a run from it proves no runtime import needs a devDependency.
 *
 * The tests that run shards and merge wait, by themselves, for `run --shards/--start-at` and the
 * `merge` command in the built CLI (skipIf on its help text).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, matchesGlob, relative } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { Job } from 'kubernetes-models/batch/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { resolveProfile } from '../src/profile/index.js';
import { cli, summaryOf, tmp } from './helpers/cli.js';
import { CLI, ROOT } from './helpers/paths.js';
import { serve, type ServeProcess } from './helpers/serve-cli.js';

const K8S = join(ROOT, 'deploy/kubernetes');
const WORKFLOW = join(ROOT, 'deploy/github-actions/shards.yml');
const DOCKERFILE = join(ROOT, 'deploy/Dockerfile');

// The shard flags (`run --shards/--shard/--start-at`) and `merge` land from other branches: the
// tests that run them start by themselves once the built CLI has them.
const runHelp = execFileSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' });
const mainHelp = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
const shardingCli = ['--shards', '--shard', '--start-at'].every((f) => new RegExp(`\\s${f}\\b`).test(runHelp)) && /^\s+merge\b/m.test(mainHelp);

// ---------------------------------------------------------------------------------------------
// Manifests

interface Manifest {
  readonly file: string;
  readonly doc: any;
}

/** Every YAML document of deploy/kubernetes/*.yaml but kustomization.yaml, parsed (a syntax error throws). */
function manifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(K8S)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()) {
    for (const d of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
      out.push({ file, doc: d.toJS() });
    }
  }
  return out;
}

/** The kubernetes-models class of each apiVersion/kind the manifests may use; any other kind fails. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

function find(kind: string, name: string): any {
  const m = manifests().find((x) => x.doc.kind === kind && x.doc.metadata?.name === name);
  if (!m) throw new Error(`deploy/kubernetes has no ${kind} ${name}`);
  return m.doc;
}

/** The value after `flag` in an argument list. */
function flagValue(args: readonly string[], flag: string): string {
  const i = args.indexOf(flag);
  if (i === -1 || i + 1 >= args.length) throw new Error(`no ${flag} VALUE in ${args.join(' ')}`);
  return args[i + 1];
}

/** The pod specs of every workload (Jobs, Deployments). */
const podSpecs = (): { name: string; spec: any; labels: Record<string, string> }[] =>
  manifests()
    .filter((m) => m.doc.kind === 'Job' || m.doc.kind === 'Deployment')
    .map((m) => ({ name: `${m.doc.kind}/${m.doc.metadata.name}`, spec: m.doc.spec.template.spec, labels: m.doc.spec.template.metadata.labels }));

/**
 * A container's environment as the kubelet would build it: literal values, ConfigMap keys (from
 * `configMaps` by name), and `limits.cpu` through resourceFieldRef (rounded up to whole units of
 * the divisor, as the Downward API does). Anything else throws.
 */
function containerEnv(container: any, configMaps: Record<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom?.configMapKeyRef) {
      const { name, key } = e.valueFrom.configMapKeyRef;
      const value = configMaps[name]?.[key];
      if (value === undefined) throw new Error(`env ${e.name}: ConfigMap ${name} has no key ${key}`);
      env[e.name] = value;
    } else if (e.valueFrom?.resourceFieldRef?.resource === 'limits.cpu') {
      env[e.name] = String(Math.ceil(cpuCores(container.resources.limits.cpu) / cpuCores(e.valueFrom.resourceFieldRef.divisor ?? '1')));
    } else throw new Error(`env ${e.name}: no rule for ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

/** A CPU quantity ("2", "500m") in cores. */
function cpuCores(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(q));
  if (!m) throw new Error(`CPU quantity ${q}: only plain cores and millicores are read here`);
  return Number(m[1]) / (m[2] === 'm' ? 1000 : 1);
}

/** `$(VAR)` references in args, expanded from `env` as the kubelet does; an undefined one throws (the kubelet would leave it as is). */
function expand(args: readonly string[], env: Record<string, string>): string[] {
  return args.map((a) =>
    a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, name: string) => {
      if (env[name] === undefined) throw new Error(`$(${name}) in "${a}" is not in the container's environment`);
      return env[name];
    }),
  );
}

/** Replaces a leading container path (a volume's mountPath) with a local directory. */
function mapPaths(args: readonly string[], mounts: Record<string, string>): string[] {
  return args.map((a) => {
    for (const [inPod, local] of Object.entries(mounts)) if (a === inPod || a.startsWith(`${inPod}/`)) return local + a.slice(inPod.length);
    return a;
  });
}

/** A stand-in `kubectl` on PATH: logs each call's arguments (one JSON line) and acts per KUBECTL_SCENARIO. */
function fakeKubectl(dir: string): { bin: string; log: string; calls(): string[][] } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const log = join(dir, 'kubectl.log');
  writeFileSync(log, '');
  // `exec sleep` for the wait that never succeeds: the script's `kill` then ends the sleep itself.
  writeFileSync(
    join(bin, 'kubectl'),
    `#!/usr/bin/env bash
node -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- "$@" >> "${log}"
case "$1 $*" in
  apply*-f\\ -*) cat > /dev/null ;;
  wait*--for=create*) exit 0 ;;
  wait*--for=condition=Complete*) [ "$KUBECTL_SCENARIO" = complete ] && { sleep 0.2; exit 0; }; exec sleep 60 ;;
  wait*--for=condition=Failed*) [ "$KUBECTL_SCENARIO" = failed ] && { sleep 0.2; exit 0; }; exec sleep 60 ;;
  get*'type=="Complete"'*) [ "$KUBECTL_SCENARIO" = complete ] && echo True ;;
  get*'range .status.conditions'*) echo "FailureTarget=True Failed=True " ;;
  get*failedIndexes*) echo 1 ;;
esac
exit 0
`,
  );
  chmodSync(join(bin, 'kubectl'), 0o755);
  return {
    bin,
    log,
    calls: () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]),
  };
}

/** Runs a bash script (or file) with `env`; resolves with its exit code, output and wall time. */
function bash(args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((done) => {
    execFile('bash', args, { env: opts.env, cwd: opts.cwd ?? ROOT, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** Runs launch.sh with the stand-in kubectl; returns the calls and the smtpbench-run ConfigMap's literals. */
async function launch(target: string, delayS: number): Promise<{ calls: string[][]; run: Record<string, string>; stdout: string }> {
  const kubectl = fakeKubectl(tmp());
  const r = await bash([join(K8S, 'launch.sh'), target, String(delayS)], { env: { ...process.env, PATH: `${kubectl.bin}:${process.env.PATH}` } });
  if (r.code !== 0) throw new Error(`launch.sh exited ${r.code}: ${r.stderr}`);
  const calls = kubectl.calls();
  const create = calls.find((c) => c.includes('create') && c.includes('configmap'));
  if (!create) throw new Error('launch.sh created no ConfigMap');
  const run: Record<string, string> = {};
  for (const a of create) {
    const m = /^--from-literal=([^=]+)=(.*)$/.exec(a);
    if (m) run[m[1]] = m[2];
  }
  return { calls, run, stdout: r.stdout };
}

/** The configMapKeyRef keys the workloads read from ConfigMap `name`. */
function keysReadFrom(name: string): Set<string> {
  const keys = new Set<string>();
  for (const { spec } of podSpecs()) {
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name === name) keys.add(e.valueFrom.configMapKeyRef.key);
    }
  }
  return keys;
}

/** The profile ConfigMap's profile, parsed (its data key is the file name the shards' args use). */
function configMapProfile(): { key: string; input: any } {
  const cm = find('ConfigMap', 'smtpbench-profile');
  const keys = Object.keys(cm.data);
  expect(keys).toHaveLength(1);
  return { key: keys[0], input: parse(cm.data[keys[0]]) };
}

const servers: ServeProcess[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.child.kill();
});

/** Stops a `serve` with SIGTERM and returns the counters it prints last. */
function stopServe(s: ServeProcess): Promise<{ messages: number; recipients: number }> {
  return new Promise((done, fail) => {
    s.child.once('exit', () => {
      const last = s.stdout().trim().split('\n').pop() ?? '';
      try {
        done(JSON.parse(last));
      } catch {
        fail(new Error(`serve printed no counters: ${s.stdout()}`));
      }
    });
    s.child.kill('SIGTERM');
  });
}

/** The sink Deployment's `serve` arguments, bound to loopback on any free ports. */
function sinkArgs(): string[] {
  const args: string[] = [...find('Deployment', 'smtpbench-sink').spec.template.spec.containers[0].args];
  expect(args[0]).toBe('serve');
  for (const [flag, value] of [
    ['--host', '127.0.0.1'],
    ['--port', '0'],
    ['--http', '0'],
  ])
    args[args.indexOf(flag) + 1] = value;
  return args.slice(1);
}

/**
 * A small copy of a profile for the local runs (seconds, a few hundred messages): the same keys,
 * a lower rate, and no warm-up (so the client's counts equal the server's). Of its thresholds it
 * keeps the error ones: latency and generator health depend on how busy this machine is (the
 * accuracy project's concern), and a rate threshold was made for the profile's own rate. It adds
 * a rate threshold that only the shards together meet (a shard alone runs a third of the rate):
 * thresholds are judged once, on the merged result, and a shard must not fail on them.
 */
function smallProfile(input: any, rate: number): any {
  for (const key of ['executor', 'rate', 'duration', 'warmup', 'maxSessions']) expect(input, `the profile sets ${key}`).toHaveProperty(key);
  expect(input.executor).toBe('open');
  expect(Array.isArray(input.thresholds)).toBe(true);
  const kept = input.thresholds.filter((t: string) => t.startsWith('errors.'));
  expect(kept.length, 'the profile has an error threshold').toBeGreaterThan(0);
  return { ...input, rate, duration: '3s', warmup: '0s', maxSessions: 30, thresholds: [...kept, `messages.rate > ${rate / 2}`] };
}

describe('deploy/kubernetes', () => {
  it('every manifest is a valid Kubernetes object of a known kind (kubernetes-models)', () => {
    const lines: string[] = [];
    for (const { file, doc } of manifests()) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${file}: unknown apiVersion/kind ${doc.apiVersion}/${doc.kind}`).toBeDefined();
      expect(() => new Model(doc).validate(), `${file}: ${doc.kind}/${doc.metadata?.name}`).not.toThrow();
      expect(doc.metadata.labels['app.kubernetes.io/name'], `${file}: ${doc.kind}/${doc.metadata.name} is labelled`).toBe('smtpbench');
      lines.push(`${doc.kind}/${doc.metadata.name} (${file}): ok`);
    }
    // The validation can fail: a count that is not an integer is refused.
    const job = structuredClone(find('Job', 'smtpbench-shards'));
    job.spec.completions = 'three';
    expect(() => new Job(job).validate()).toThrow(/completions/);
    console.log(`manifest validation (kubernetes-models 4.5.1):\n  ${lines.join('\n  ')}`);
    expect(lines.length).toBeGreaterThanOrEqual(10);
  });

  it('the shards Job: Indexed, completions = parallelism = --shards, no retries, one shard per node', () => {
    const job = find('Job', 'smtpbench-shards');
    const pod = job.spec.template;
    const [c] = pod.spec.containers;
    const shards = Number(flagValue(c.args, '--shards'));
    expect(shards).toBeGreaterThanOrEqual(2);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: shards, parallelism: shards, backoffLimitPerIndex: 0 });
    expect(pod.spec.restartPolicy).toBe('Never');

    // Required anti-affinity on the host name, selecting exactly the shards' own pods.
    const terms = pod.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    expect(terms).toHaveLength(1);
    expect(terms[0].topologyKey).toBe('kubernetes.io/hostname');
    const selector: Record<string, string> = terms[0].labelSelector.matchLabels;
    expect(terms[0].labelSelector.matchExpressions).toBeUndefined();
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    const selects = (labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(selects(pod.metadata.labels)).toBe(true);
    for (const other of podSpecs().filter((p) => p.name !== 'Job/smtpbench-shards')) expect(selects(other.labels), `${other.name} is not a shard`).toBe(false);

    // run PROFILE --shards N --start-at …, the index from the Job controller, a directory per shard.
    expect(c.args.slice(0, 2)).toEqual(['run', '/profile/profile.yaml']);
    expect(flagValue(c.args, '--start-at')).toBe('$(START_AT)');
    expect(flagValue(c.args, '--target')).toBe('$(TARGET)');
    expect(flagValue(c.args, '--out')).toBe('/results/$(RUN_ID)/shard-$(JOB_COMPLETION_INDEX)');
    // Every $(VAR) is in the container's env, or is the one the Job controller adds.
    const defined = new Set([...c.env.map((e: { name: string }) => e.name), 'JOB_COMPLETION_INDEX']);
    for (const a of c.args) for (const [, v] of a.matchAll(/\$\((\w+)\)/g)) expect(defined, `$(${v}) in ${a}`).toContain(v);

    // The workers are the cores of the CPU limit, and the pod gets them (requests = limits).
    expect(c.env.find((e: { name: string }) => e.name === 'WORKERS').valueFrom.resourceFieldRef.resource).toBe('limits.cpu');
    expect(flagValue(c.args, '--workers')).toBe('$(WORKERS)');
    expect(c.resources.requests).toEqual(c.resources.limits);

    // The profile mount holds the profile ConfigMap's key; results go to the shared RWX claim.
    const volumes = Object.fromEntries(pod.spec.volumes.map((v: { name: string }) => [v.name, v]));
    const mountOf = (path: string) => volumes[c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === path).name];
    expect(mountOf('/profile').configMap.name).toBe('smtpbench-profile');
    expect(configMapProfile().key).toBe('profile.yaml');
    expect(mountOf('/results').persistentVolumeClaim.claimName).toBe('smtpbench-results');
    expect(find('PersistentVolumeClaim', 'smtpbench-results').spec.accessModes).toEqual(['ReadWriteMany']);
  });

  it('the merge Job: waits for the shards Job with its own read-only RBAC, merges shard-0..N-1 of the same run on the same claim', () => {
    const shardsJob = find('Job', 'smtpbench-shards');
    const shards = shardsJob.spec.completions;
    const job = find('Job', 'smtpbench-merge');
    const pod = job.spec.template.spec;
    expect(job.spec.backoffLimit).toBe(0);
    expect(pod.restartPolicy).toBe('Never');
    const [c] = pod.containers;
    const shardOut = flagValue(shardsJob.spec.template.spec.containers[0].args, '--out');
    const dirs = Array.from({ length: shards }, (_, i) => shardOut.replace('$(JOB_COMPLETION_INDEX)', String(i)));
    expect(c.args).toEqual(['merge', ...dirs, '--out', '/results/$(RUN_ID)/merged']);
    expect(pod.volumes.find((v: any) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName).toBe('smtpbench-results');
    expect(c.image).toBe(shardsJob.spec.template.spec.containers[0].image);

    const [wait] = pod.initContainers;
    expect(wait.image).toMatch(/^registry\.k8s\.io\/kubectl:v\d+\.\d+\.\d+$/);
    expect(wait.args[0]).toContain('job/smtpbench-shards');
    // The ServiceAccount may get, list and watch Jobs, and nothing more.
    const binding = find('RoleBinding', 'smtpbench-merge-job-reader');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')).namespace }]);
    expect(find('ServiceAccount', pod.serviceAccountName)).toBeDefined();
    expect(find('Role', binding.roleRef.name).rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] }]);
  });

  it('every pod runs as the image’s non-root user on a read-only root file system, with a writable /tmp', () => {
    const dockerUser = Number(
      finalStage()
        .find((i) => i.getKeyword() === 'USER')
        ?.getArguments()[0]
        .getValue()
        .split(':')[0],
    );
    for (const { name, spec } of podSpecs()) {
      expect(spec.securityContext, name).toMatchObject({ runAsNonRoot: true, runAsUser: dockerUser });
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect(c.securityContext, `${name} ${c.name}`).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        const tmpMount = c.volumeMounts?.find((m: { mountPath: string }) => m.mountPath === '/tmp');
        expect(spec.volumes.find((v: { name: string }) => v.name === tmpMount?.name)?.emptyDir, `${name} ${c.name}: /tmp`).toBeDefined();
      }
    }
  });

  it('the profile ConfigMap holds a profile that smtpbench resolves: an open model with thresholds, no target', () => {
    const { input } = configMapProfile();
    const profile = resolveProfile(input, undefined, 'deploy/kubernetes/configmap-profile.yaml');
    expect(profile.executor).toBe('open');
    expect(profile.thresholds.length).toBeGreaterThan(0);
    expect(input.target, 'the target comes from the smtpbench-run ConfigMap').toBeUndefined();
  });

  it('kustomization.yaml lists every manifest file, and its image entry names the workloads’ image', () => {
    const k = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8'));
    const files = [...new Set(manifests().map((m) => m.file))];
    expect([...k.resources].sort()).toEqual(files.sort());
    expect(k.namespace).toBe(find('Namespace', k.namespace).metadata.name);
    const images = new Set(podSpecs().flatMap(({ spec }) => spec.containers.map((c: { image: string }) => c.image.split(':')[0])));
    expect([...images]).toEqual([k.images[0].name]);
  });

  it('launch.sh: deletes the last run’s Jobs, creates smtpbench-run with exactly the keys the Jobs read, start-at DELAY ahead, then apply -k', async () => {
    const before = Date.now();
    const { calls, run, stdout } = await launch('smtp://mta.example.test:25', 90);
    const ns = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')).namespace;
    const heads = calls.map((c) => c.slice(0, 4).join(' '));
    expect(heads[0]).toBe(`apply -f ${join(K8S, 'namespace.yaml')}`);
    expect(heads[1]).toBe(`-n ${ns} delete job`);
    // `create --dry-run=client -o yaml | apply -f -`: the two ends of the pipe run together.
    expect(heads.slice(2, 4).sort()).toEqual([`-n ${ns} create configmap`, 'apply -f -']);
    expect(heads.slice(4)).toEqual([`apply -k ${K8S}`]);
    expect(calls[1]).toEqual(expect.arrayContaining(['smtpbench-shards', 'smtpbench-merge', '--ignore-not-found']));
    expect(new Set(Object.keys(run))).toEqual(keysReadFrom('smtpbench-run'));
    expect(run.target).toBe('smtp://mta.example.test:25');
    expect(run['start-at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const startAt = Date.parse(run['start-at']);
    expect(startAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 89_000);
    expect(startAt).toBeLessThanOrEqual(Date.now() + 91_000);
    expect(run['run-id']).toMatch(/^[0-9TZ]+$/);
    expect(stdout).toContain(run['run-id']);
  });

  it('the merge Job’s wait: exits 0 when the shards Job completes, 1 naming the failed indexes when it fails, without waiting for the other condition', async () => {
    const script: string = find('Job', 'smtpbench-merge').spec.template.spec.initContainers[0].args[0];
    for (const scenario of ['complete', 'failed']) {
      const kubectl = fakeKubectl(tmp());
      const r = await bash(['-c', script], { env: { ...process.env, PATH: `${kubectl.bin}:${process.env.PATH}`, KUBECTL_SCENARIO: scenario }, timeoutMs: 15_000 });
      expect(r.ms, scenario).toBeLessThan(10_000); // the losing `kubectl wait` (60 s here) was stopped
      if (scenario === 'complete') {
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain('smtpbench-shards: complete');
      } else {
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('failed indexes: 1');
        expect(r.stderr).toContain('nothing merged');
      }
      expect(kubectl.calls()[0]).toEqual(['wait', 'job/smtpbench-shards', '--for=create', '--timeout=60s']);
    }
  });

  it.skipIf(!shardingCli)('runs the Job’s command lines as N local processes with JOB_COMPLETION_INDEX, then the merge Job’s: the merged count is the server’s', async () => {
    const mta = await serve(sinkArgs());
    servers.push(mta);
    const { run } = await launch(`smtp://127.0.0.1:${mta.port}`, 4);
    const work = tmp();
    const profileDir = join(work, 'profile');
    const resultsDir = join(work, 'results');
    mkdirSync(profileDir);
    mkdirSync(resultsDir);
    const { key, input } = configMapProfile();
    writeFileSync(join(profileDir, key), stringify(smallProfile(input, 150)));
    const configMaps = { 'smtpbench-run': run };
    const mounts = { '/profile': profileDir, '/results': resultsDir };

    const shardsJob = find('Job', 'smtpbench-shards');
    const shardContainer = shardsJob.spec.template.spec.containers[0];
    const shardArgs = mapPaths(expand(shardContainer.args, { ...containerEnv(shardContainer, configMaps), JOB_COMPLETION_INDEX: '$(JOB_COMPLETION_INDEX)' }), mounts);
    const shardRuns = await Promise.all(
      Array.from({ length: shardsJob.spec.completions }, (_, i) => {
        const args = shardArgs.map((a) => a.replaceAll('$(JOB_COMPLETION_INDEX)', String(i)));
        return cli(args, { env: { ...process.env, JOB_COMPLETION_INDEX: String(i) } });
      }),
    );
    for (const [i, r] of shardRuns.entries()) expect(r.code, `shard ${i}: ${r.stderr}`).toBe(0);

    const mergeContainer = find('Job', 'smtpbench-merge').spec.template.spec.containers[0];
    const merged = await cli(mapPaths(expand(mergeContainer.args, containerEnv(mergeContainer, configMaps)), mounts));
    expect(merged.code, merged.stderr).toBe(0);

    const counters = await stopServe(mta);
    const runDir = join(resultsDir, run['run-id']);
    const shardSummaries = shardRuns.map((_, i) => summaryOf(join(runDir, `shard-${i}`)));
    const mergedSummary = summaryOf(join(runDir, 'merged'));
    expect(shardSummaries.map((s) => [s.shard.index, s.shard.count])).toEqual(shardRuns.map((_, i) => [i, shardRuns.length]));
    const accepted = shardSummaries.map((s) => s.totals.messages.accepted);
    expect(accepted.every((n) => n > 0)).toBe(true);
    expect(mergedSummary.totals.messages.accepted).toBe(accepted.reduce((a, b) => a + b, 0));
    expect(mergedSummary.totals.messages.accepted).toBe(counters.messages);
    console.log(`Kubernetes Job command lines, run locally: shards accepted ${accepted.join(' + ')} = merged ${mergedSummary.totals.messages.accepted} = server ${counters.messages}`);
    expect(mergedSummary.thresholds.map((v: { expression: string; ok: boolean }) => [v.expression, v.ok])).toEqual(smallProfile(input, 150).thresholds.map((t: string) => [t, true]));
    expect(existsSync(join(runDir, 'merged/report.html'))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// GitHub Actions

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string>;
}
interface WorkflowJob {
  needs?: string | string[];
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  strategy?: { 'fail-fast'?: boolean; matrix: Record<string, unknown[]> };
  steps: Step[];
}
interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, WorkflowJob>;
}

const workflow = (): Workflow => parse(readFileSync(WORKFLOW, 'utf8'));

/** `${{ expression }}` replaced from `ctx` (the expressions this workflow uses are plain context paths); an unknown one throws. */
function evalExpr(value: string, ctx: Record<string, string>): string {
  return String(value).replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, e: string) => {
    if (ctx[e] === undefined) throw new Error(`no value for \${{ ${e} }}`);
    return ctx[e];
  });
}
const evalAll = (env: Record<string, string> | undefined, ctx: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, evalExpr(v, ctx)]));

/**
 * Runs one job's steps in `workspace` as a runner would (bash -e; a failed step skips the rest but
 * `if: always()` steps). Checkout, setup-node, Install and Build are the test's own (the workspace
 * links the built checkout); upload/download-artifact copy to and from `artifacts/<name>`.
 * Returns each run step's exit code by name, and the GITHUB_OUTPUT values by step id.
 */
async function runJob(
  job: WorkflowJob,
  ctx: Record<string, string>,
  opts: { workspace: string; artifacts: string; env: Record<string, string> },
): Promise<{ codes: Record<string, number>; outputs: Record<string, string>; out: string }> {
  const codes: Record<string, number> = {};
  const outputs: Record<string, string> = {};
  let failed = false;
  let out = '';
  for (const step of job.steps) {
    if (failed && step.if !== 'always()') continue;
    const uses = step.uses?.replace(/@.*/, '');
    if (uses === 'actions/checkout' || uses === 'actions/setup-node') continue;
    if (step.name === 'Install' || step.name === 'Build') {
      expect(step.run).toMatch(step.name === 'Install' ? /^npm ci\b/ : /^npm run build$/);
      continue;
    }
    if (uses === 'actions/upload-artifact') {
      expect(step.uses).toBe('actions/upload-artifact@v4');
      const name = evalExpr(step.with!.name, ctx);
      const from = join(opts.workspace, evalExpr(step.with!.path, ctx));
      if (existsSync(from)) cpSync(from, join(opts.artifacts, name), { recursive: true });
      else if (step.with!['if-no-files-found'] === 'error') failed = true;
      continue;
    }
    if (uses === 'actions/download-artifact') {
      expect(step.uses).toBe('actions/download-artifact@v4');
      // v4 with a pattern: each matching artifact in its own directory under `path`.
      for (const name of readdirSync(opts.artifacts).filter((n) => matchesGlob(n, step.with!.pattern))) {
        cpSync(join(opts.artifacts, name), join(opts.workspace, step.with!.path, name), { recursive: true });
      }
      continue;
    }
    if (step.run === undefined) throw new Error(`step ${step.name ?? step.uses}: the test does not know how to run it`);
    const outputFile = join(opts.workspace, '.github-output');
    writeFileSync(outputFile, '');
    const env = { ...process.env, ...opts.env, GITHUB_OUTPUT: outputFile };
    const r = await bash(['-e', '-c', evalExpr(step.run, ctx)], { env, cwd: opts.workspace });
    codes[step.name ?? step.id ?? step.run] = r.code;
    out += r.stdout + r.stderr;
    if (r.code !== 0) failed = true;
    for (const line of readFileSync(outputFile, 'utf8').split('\n').filter(Boolean)) {
      const eq = line.indexOf('=');
      outputs[`steps.${step.id}.outputs.${line.slice(0, eq)}`] = line.slice(eq + 1);
    }
  }
  return { codes, outputs, out };
}

/** A runner's workspace: the checkout (built by the test: dist/, node_modules/ and profiles/ linked). */
function workspace(): string {
  const dir = tmp();
  for (const f of ['package.json', 'dist', 'node_modules', 'profiles']) symlinkSync(join(ROOT, f), join(dir, f));
  return dir;
}

describe('deploy/github-actions/shards.yml', () => {
  it('a plan job, a matrix of N shards (--shard i/N, a common --start-at, an artifact each), a merge job after them all', () => {
    const wf = workflow();
    expect(Object.keys(wf.jobs)).toEqual(['plan', 'shard', 'merge']);
    const { plan, shard, merge } = wf.jobs;
    expect(plan.needs).toBeUndefined();
    expect(shard.needs).toBe('plan');
    expect(merge.needs).toBe('shard');

    const planStep = plan.steps.find((s) => s.id === 'plan');
    expect(planStep?.run).toContain('$GITHUB_OUTPUT');
    expect(plan.outputs).toEqual({ 'start-at': '${{ steps.plan.outputs.start-at }}' });

    const matrix = shard.strategy!.matrix.shard;
    const n = matrix.length;
    expect(matrix).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(shard.strategy!['fail-fast']).toBe(false);
    expect(shard.env).toEqual({ SHARD: '${{ matrix.shard }}', START_AT: '${{ needs.plan.outputs.start-at }}' });
    const runShard = shard.steps.find((s) => s.name === 'Run the shard')!.run!;
    expect(runShard).toContain(`--shard "$SHARD/${n}"`);
    expect(runShard).toContain('--start-at "$START_AT"');
    expect(runShard).toContain('--out "results/shard-$SHARD"');
    const upload = shard.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    expect(upload).toMatchObject({ uses: 'actions/upload-artifact@v4', if: 'always()', with: { name: 'shard-${{ matrix.shard }}', path: 'results/shard-${{ matrix.shard }}/' } });

    const download = merge.steps.find((s) => s.uses?.startsWith('actions/download-artifact'))!;
    expect(download).toMatchObject({ uses: 'actions/download-artifact@v4', with: { pattern: 'shard-*', path: 'shards' } });
    expect(merge.steps.find((s) => s.name === 'Merge and judge the thresholds')!.run).toMatch(/merge shards\/shard-\* --out merged/);
    expect(merge.steps.find((s) => s.run?.includes('$GITHUB_STEP_SUMMARY'))).toMatchObject({ if: 'always()' });
    expect(merge.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))).toMatchObject({ if: 'always()', with: { path: 'merged/' } });

    // The workflow's profile is a real one, with thresholds for the merge to judge.
    expect(resolveProfile(parse(readFileSync(join(ROOT, wf.env.PROFILE), 'utf8')), undefined, wf.env.PROFILE).thresholds.length).toBeGreaterThan(0);
  });

  it.skipIf(!shardingCli)('its run steps, as the runners would run them: the merged count is the server’s, the step summary is the merged report', async () => {
    const wf = workflow();
    const mta = await serve(['--quiet']);
    servers.push(mta);
    const work = tmp();
    const artifacts = join(work, 'artifacts');
    mkdirSync(artifacts);
    const profile = join(work, 'profile.yaml');
    writeFileSync(profile, stringify(smallProfile(parse(readFileSync(join(ROOT, wf.env.PROFILE), 'utf8')), 150)));
    const summary = join(work, 'step-summary.md');
    // The workflow's env, with the MTA, the profile and the start delay of this test.
    const vars = { 'vars.SMTP_TARGET': `smtp://127.0.0.1:${mta.port}` };
    const wfEnv = { ...evalAll(wf.env, vars), PROFILE: profile, START_DELAY: '4', GITHUB_STEP_SUMMARY: summary };

    const plan = await runJob(wf.jobs.plan, vars, { workspace: workspace(), artifacts, env: wfEnv });
    expect(Object.values(plan.codes), plan.out).toEqual([0]);
    const needs = Object.fromEntries(Object.entries(evalAll(wf.jobs.plan.outputs, plan.outputs)).map(([k, v]) => [`needs.plan.outputs.${k}`, v]));
    expect(Date.parse(needs['needs.plan.outputs.start-at'])).toBeGreaterThan(Date.now());

    const shards = await Promise.all(
      wf.jobs.shard.strategy!.matrix.shard.map((i) => {
        const ctx = { ...vars, ...needs, 'matrix.shard': String(i) };
        return runJob(wf.jobs.shard, ctx, { workspace: workspace(), artifacts, env: { ...wfEnv, ...evalAll(wf.jobs.shard.env, ctx) } });
      }),
    );
    for (const s of shards) expect(Object.values(s.codes), s.out).toEqual([0]);

    const mergeWorkspace = workspace();
    const merged = await runJob(wf.jobs.merge, vars, { workspace: mergeWorkspace, artifacts, env: wfEnv });
    for (const code of Object.values(merged.codes)) expect(code, merged.out).toBe(0);

    const counters = await stopServe(mta);
    const s = summaryOf(join(mergeWorkspace, 'merged'));
    expect(s.totals.messages.accepted).toBe(counters.messages);
    console.log(`GitHub Actions matrix, run locally: merged ${s.totals.messages.accepted} = server ${counters.messages}; ${s.thresholds.length} thresholds passed`);
    expect(s.thresholds.every((v: { ok: boolean }) => v.ok)).toBe(true);
    expect(readFileSync(summary, 'utf8')).toBe(readFileSync(join(mergeWorkspace, 'merged/report.md'), 'utf8'));
    expect(readdirSync(artifacts).sort()).toEqual(['merged', ...wf.jobs.shard.strategy!.matrix.shard.map((i) => `shard-${i}`)]);
  });
});

// ---------------------------------------------------------------------------------------------
// The image

/** The Dockerfile's stages: each FROM and the instructions after it. */
function stages(): { from: any; instructions: Instruction[] }[] {
  const out: { from: any; instructions: Instruction[] }[] = [];
  for (const i of DockerfileParser.parse(readFileSync(DOCKERFILE, 'utf8')).getInstructions()) {
    if (i.getKeyword() === 'FROM') out.push({ from: i, instructions: [] });
    else out[out.length - 1].instructions.push(i);
  }
  return out;
}
const finalStage = (): Instruction[] => stages().at(-1)!.instructions;
const args = (i: Instruction): string[] => i.getArguments().map((a) => a.getValue());
/** A COPY's `--from` stage, or null for the build context. */
const copyFrom = (i: Instruction): string | null =>
  (i as any)
    .getFlags()
    .find((f: any) => f.getName() === 'from')
    ?.getValue() ?? null;

describe('deploy/Dockerfile', () => {
  it('two Node 20 slim stages; the runtime: npm ci --omit=dev, a numeric non-root USER, the CLI as ENTRYPOINT; COPY sources exist and are not ignored', () => {
    const all = stages();
    expect(all).toHaveLength(2);
    for (const { from } of all) {
      expect(from.getImageName()).toBe('node');
      expect(from.getImageTag()).toMatch(/^20(-[a-z]+)*-slim$/);
    }
    const buildStage = all[0].from.getBuildStage();
    const final = finalStage();
    const runs = final.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent()!);
    expect(runs.some((r) => /\bnpm ci\b[^&]*--omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm (install|i)\b/.test(r))).toBe(false);
    const user = final.filter((i) => i.getKeyword() === 'USER').map((i) => args(i)[0]);
    expect(user).toHaveLength(1);
    expect(user[0]).toMatch(/^\d+(:\d+)?$/); // numeric: runAsNonRoot can check it
    expect(Number(user[0].split(':')[0])).toBeGreaterThan(0);
    const entrypoint = final.filter((i) => i.getKeyword() === 'ENTRYPOINT');
    expect(entrypoint).toHaveLength(1);
    expect((entrypoint[0] as any).getJSONStrings().map((s: any) => s.getJSONValue())).toEqual(['node', '/app/dist/cli/main.js']);

    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', 'results']));
    for (const { instructions } of all) {
      for (const copy of instructions.filter((i) => i.getKeyword() === 'COPY')) {
        const sources = args(copy).slice(0, -1);
        const from = copyFrom(copy);
        if (from !== null) {
          expect(from).toBe(buildStage);
          continue;
        }
        for (const src of sources) {
          expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true);
          for (const pattern of ignore) expect(src === pattern || src.startsWith(`${pattern}/`) || matchesGlob(src, pattern), `COPY ${src} vs .dockerignore ${pattern}`).toBe(false);
        }
      }
    }
    // The build stage has what `npm run build` reads.
    const built = all[0].instructions.filter((i) => i.getKeyword() === 'COPY').flatMap((i) => args(i).slice(0, -1));
    expect(built).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'scripts/load-bundle.cjs', 'src', 'profiles']));
  });

  it('its runtime stage, replayed (npm ci --omit=dev from the lockfile, its COPYs, its ENV and WORKDIR), runs the default profile: no runtime import needs a devDependency', async () => {
    const work = tmp();
    const rootfs = join(work, 'rootfs');
    const inImage = (p: string) => join(rootfs, p);
    const buildWorkdir = args(stages()[0].instructions.find((i) => i.getKeyword() === 'WORKDIR')!)[0];
    let cwd = '/';
    const env: Record<string, string> = {};
    const skipped: string[] = [];
    for (const i of finalStage()) {
      const a = args(i);
      switch (i.getKeyword()) {
        case 'WORKDIR':
          cwd = a[0].startsWith('/') ? a[0] : join(cwd, a[0]);
          mkdirSync(inImage(cwd), { recursive: true });
          break;
        case 'ENV':
          for (const p of (i as any).getProperties()) env[p.getName()] = p.getValue();
          break;
        case 'COPY': {
          const dest = a.at(-1)!;
          const target = inImage(dest.startsWith('/') ? dest : join(cwd, dest));
          for (const src of a.slice(0, -1)) {
            // From the build stage: that stage ran `npm run build` in its WORKDIR, as this checkout did.
            const local = copyFrom(i) === null ? join(ROOT, src) : join(ROOT, relative(buildWorkdir, src));
            cpSync(local, dest.endsWith('/') ? join(target, src.split('/').at(-1)!) : target, { recursive: true });
          }
          break;
        }
        case 'RUN': {
          const content = i.getArgumentsContent()!;
          const npmCi = content
            .split('&&')
            .map((s) => s.trim())
            .find((s) => s.startsWith('npm ci'));
          if (npmCi === undefined) {
            skipped.push(content);
            break;
          }
          // The registry must be reachable (as in CI); --prefer-offline takes what npm's cache has.
          const r = await bash(['-c', `${npmCi} --prefer-offline`], { env: { ...process.env, ...env }, cwd: inImage(cwd), timeoutMs: 170_000 });
          if (r.code !== 0) throw new Error(`the Dockerfile's "${npmCi}" failed (exit ${r.code}; is the npm registry reachable?):\n${r.stderr}`);
          break;
        }
      }
    }
    // What is not replayed: the apt-get of openssl (on this machine already) and the results directory.
    expect(skipped.map((r) => r.split(/\s/)[0])).toEqual(['apt-get', 'mkdir']);
    // Only the image's own node_modules can serve an import.
    for (let d = inImage('/app'); d !== dirname(d); d = dirname(d)) if (d !== inImage('/app')) expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    for (const dev of ['typescript', 'vitest', 'kubernetes-models', 'tsx']) expect(existsSync(inImage(`/app/node_modules/${dev}`)), dev).toBe(false);

    const [, main] = (finalStage().find((i) => i.getKeyword() === 'ENTRYPOINT') as any).getJSONStrings().map((s: any) => s.getJSONValue());
    const out = join(work, 'out');
    const { NODE_PATH: _np, NODE_OPTIONS: _no, ...hostEnv } = process.env;
    const r = await new Promise<{ code: number; stderr: string }>((done) => {
      execFile(process.execPath, [inImage(main), 'run', '--messages', '50', '--quiet', '--out', out], { cwd: inImage(cwd), env: { ...hostEnv, ...env }, timeout: 60_000 }, (err, _stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr }),
      );
    });
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(out);
    expect(s.totals.messages.accepted).toBe(50);
    expect(s.profile.executor).toBe('closed'); // profiles/smoke.yaml, found beside dist/ in the image
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('uPlot');
  }, 180_000);
});
