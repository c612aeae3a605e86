/**
 * A Redis Cluster on this machine, started from synthesized manifests rather
 * than from settings a test writes itself: each node is the RedisCluster
 * StatefulSet's container (its command, its `redis.conf` from the ConfigMap,
 * its arguments after the kubelet's `$(VAR)` expansion), and the cluster is
 * formed by the bootstrap Job's container (its command, the script from the
 * ConfigMap, its environment).
 *
 * What cannot exist here is rewritten, and only that: the data volume's mount
 * path becomes a directory per node, every node host of the Job's
 * `REDIS_NODES` becomes 127.0.0.1 on a port of the caller's range (so nothing
 * depends on the namespace in the DNS names), the Secret references resolve to
 * the caller's password, and each node gets its own client and bus port.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { run, RunResult } from '../data/support';

const execFileAsync = promisify(execFile);

export interface RedisManifestNames {
  /**
   * The StatefulSet of the nodes.
   * @default 'redis'
   */
  readonly statefulSet?: string;
  /**
   * The bootstrap Job.
   * @default '<statefulSet>-bootstrap'
   */
  readonly job?: string;
}

/** The synthesized objects a local Redis Cluster is started from. */
export interface RedisManifests {
  /** Name of the StatefulSet: pod `i` is `<name>-<i>`. */
  readonly name: string;
  /** The StatefulSet's redis container. */
  readonly node: any;
  /** The bootstrap Job's container. */
  readonly job: any;
  /** Every file of the ConfigMaps the node and the Job mount, by mount path (`/etc/redis/redis.conf`, `/scripts/...`). */
  readonly files: { readonly [mountPath: string]: string };
  /** Where the node's data volume is mounted (`/data`). */
  readonly dataMountPath: string;
  /** `host:port` of every node, in pod order, from the Job's `REDIS_NODES`. */
  readonly nodes: readonly string[];
  /** The server binary (StatefulSet command) and the client binary (the Job's `REDIS_CLI`). */
  readonly serverBinary: string;
  readonly cliBinary: string;
}

function envEntry(container: any, name: string): any {
  return container.env?.find((e: any) => e.name === name);
}

/** Files of the ConfigMap volumes a container mounts, by mount path. */
function mountedFiles(docs: any[], podSpec: any, container: any): { [mountPath: string]: string } {
  const files: { [mountPath: string]: string } = {};
  for (const mount of container.volumeMounts ?? []) {
    const volume = podSpec.volumes?.find((v: any) => v.name === mount.name);
    if (!volume?.configMap) continue;
    const cm = docs.find(d => d.kind === 'ConfigMap' && d.metadata.name === volume.configMap.name);
    if (!cm) throw new Error(`no ConfigMap ${volume.configMap.name} (volume ${mount.name})`);
    if (mount.subPath) {
      files[mount.mountPath] = cm.data[mount.subPath];
    } else {
      for (const [file, content] of Object.entries(cm.data as { [k: string]: string })) files[path.posix.join(mount.mountPath, file)] = content;
    }
  }
  return files;
}

/** Finds the node and bootstrap containers, and the files they mount, in synthesized `docs`. */
export function redisManifests(docs: any[], names: RedisManifestNames = {}): RedisManifests {
  const name = names.statefulSet ?? 'redis';
  const jobName = names.job ?? `${name}-bootstrap`;
  const sts = docs.find(d => d.kind === 'StatefulSet' && d.metadata.name === name);
  const jobDoc = docs.find(d => d.kind === 'Job' && d.metadata.name === jobName);
  if (!sts || !jobDoc) throw new Error(`no StatefulSet ${name} or no Job ${jobName} in the synthesized objects`);
  const stsPod = sts.spec.template.spec;
  const jobPod = jobDoc.spec.template.spec;
  const node = stsPod.containers.find((c: any) => c.name === 'redis');
  const job = jobPod.containers[0];
  const nodes = String(envEntry(job, 'REDIS_NODES')?.value ?? '').split(/[\s,]+/).filter(Boolean);
  if (nodes.length !== sts.spec.replicas) throw new Error(`REDIS_NODES of Job ${jobName} lists ${nodes.length} nodes, the StatefulSet runs ${sts.spec.replicas}`);
  // Pod i must be node i: the host mapping below relies on it.
  nodes.forEach((n, i) => {
    if (!n.startsWith(`${name}-${i}.`)) throw new Error(`REDIS_NODES[${i}] is ${n}, not pod ${name}-${i}`);
  });
  return {
    name,
    node,
    job,
    files: { ...mountedFiles(docs, stsPod, node), ...mountedFiles(docs, jobPod, job) },
    dataMountPath: node.volumeMounts.find((m: any) => m.name === 'data').mountPath,
    nodes,
    serverBinary: node.command[0],
    cliBinary: envEntry(job, 'REDIS_CLI')?.value ?? 'redis-cli',
  };
}

export interface LocalRedisClusterOptions {
  /** Client port of pod 0, 1, ...: pods beyond the list are not started. */
  readonly ports: readonly number[];
  /** Cluster bus port of a node. */
  readonly busPort: (port: number) => number;
  /** Parent of the nodes' data directories (one per port, kept across restarts). */
  readonly root: string;
  /** What every Secret reference of the node and the Job (`REDIS_PASSWORD`, `REDISCLI_AUTH`) resolves to. */
  readonly password: string;
  /**
   * Announce 127.0.0.1 instead of the pod's DNS name, which does not resolve
   * here; false keeps the synthesized name (for a node that is only inspected).
   * @default true
   */
  readonly localHostnames?: boolean;
}

export interface RedisRole {
  readonly role: 'master' | 'slave' | string;
  /** For a replica: the port of its master. */
  readonly masterPort?: number;
  /** For a replica: `connected` once its first sync is done. */
  readonly state?: string;
}

export class LocalRedisCluster {
  private readonly procs = new Map<number, ChildProcess>();

  constructor(readonly manifests: RedisManifests, private readonly options: LocalRedisClusterOptions) {
    if (options.ports.length > manifests.nodes.length) throw new Error(`${options.ports.length} ports for ${manifests.nodes.length} pods`);
  }

  get ports(): readonly number[] {
    return this.options.ports;
  }

  get password(): string {
    return this.options.password;
  }

  /** `127.0.0.1:<port>` of every started pod. */
  get addresses(): string[] {
    return this.options.ports.map(p => `127.0.0.1:${p}`);
  }

  /** A synthesized `host:port` list (`REDIS_CLUSTER_NODES`, `REDIS_NODES`) with every node replaced by its local address. */
  localNodes(value: string): string {
    return value.split(',').map(node => {
      const i = this.manifests.nodes.indexOf(node.trim());
      if (i < 0 || i >= this.options.ports.length) throw new Error(`${node} is not a node started here (${this.manifests.nodes.join(',')})`);
      return this.addresses[i];
    }).join(',');
  }

  dataDir(port: number): string {
    return path.join(this.options.root, `redis-${port}`);
  }

  /** The kubelet's `$(VAR)` expansion of a container's argument, from its env. */
  private expand(container: any, arg: string, podName: string): string {
    return arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => {
      const e = envEntry(container, name);
      if (e?.value !== undefined) return e.value;
      if (e?.valueFrom?.fieldRef?.fieldPath === 'metadata.name') return podName;
      if (e?.valueFrom?.secretKeyRef) return this.options.password;
      return whole;
    });
  }

  /** The environment of a container: plain values, Secret references as the password. */
  private containerEnv(container: any): { [k: string]: string } {
    const env: { [k: string]: string } = {};
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.secretKeyRef) env[e.name] = this.options.password;
    }
    return env;
  }

  /** The command line of pod `index`: the StatefulSet's, then this node's local port, bus port, address and log file. */
  commandLine(index: number): string[] {
    const m = this.manifests;
    const port = this.options.ports[index];
    const dir = this.dataDir(port);
    const podName = `${m.name}-${index}`;
    const hosts = new Set(m.nodes.map(n => n.slice(0, n.lastIndexOf(':'))));
    const args = (m.node.args as string[]).map(a => {
      if (m.files[a] !== undefined) return path.join(dir, path.posix.basename(a));
      const expanded = this.expand(m.node, a, podName);
      return (this.options.localHostnames ?? true) && hosts.has(expanded) ? '127.0.0.1' : expanded;
    });
    return [m.serverBinary, ...args,
      '--port', String(port), '--cluster-port', String(this.options.busPort(port)), '--bind', '127.0.0.1', '--logfile', path.join(dir, 'redis.log')];
  }

  /** Starts pod `index` and waits until it answers PING; `wipe` empties its data directory first (a lost volume). */
  async startNode(index: number, options: { wipe?: boolean } = {}): Promise<void> {
    const port = this.options.ports[index];
    if (this.procs.get(port)?.exitCode === null) throw new Error(`node ${port} is already running`);
    // A leftover server on the port would answer the ping below and be used instead, silently.
    if ((await this.cli(port, 'PING').catch(() => '')) === 'PONG') throw new Error(`port ${port} already has a server: stop it (redis-cli -p ${port} shutdown nosave)`);
    const dir = this.dataDir(port);
    if (options.wipe) fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const [mountPath, content] of Object.entries(this.manifests.files)) {
      if (!mountPath.endsWith('.conf')) continue;
      // The data volume's mount path (`dir /data`, `cluster-config-file /data/nodes.conf`) points at this node's directory.
      fs.writeFileSync(path.join(dir, path.posix.basename(mountPath)), content.split(this.manifests.dataMountPath).join(dir));
    }
    const [command, ...args] = this.commandLine(index);
    const proc = spawn(command, args, { stdio: 'ignore', env: { PATH: process.env.PATH, ...this.containerEnv(this.manifests.node) } });
    this.procs.set(port, proc);
    const exited = new Promise<never>((_, reject) => proc.once('exit', code => reject(new Error(`${command} ${port} exited with ${code}: ${this.log(port).slice(-2000)}`))));
    exited.catch(() => undefined);
    const deadline = Date.now() + 30_000;
    while ((await Promise.race([this.cli(port, 'PING').catch(() => ''), exited])) !== 'PONG') {
      if (Date.now() > deadline) throw new Error(`${command} ${port} did not answer PING within 30 s`);
      await new Promise(r => setTimeout(r, 50));
    }
  }

  async start(): Promise<void> {
    await Promise.all(this.options.ports.map((_, i) => this.startNode(i)));
  }

  /**
   * Sends `signal` to the node on `port` and waits for it to exit, sending
   * SIGKILL after 5 s as the kubelet does after the grace period: a replica
   * that gets SIGTERM while writing its first AOF after a full sync logs
   * "Writing initial AOF, can't exit" and keeps running.
   */
  async kill(port: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.procs.get(port);
    this.procs.delete(port);
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise(r => proc.once('exit', r));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.procs.keys()].map(p => this.kill(p, 'SIGTERM')));
  }

  /** The node's log file. */
  log(port: number): string {
    const file = path.join(this.dataDir(port), 'redis.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  /**
   * The bootstrap Job's container as the kubelet runs it: its command with the
   * script from the ConfigMap, its environment with `REDIS_NODES` pointing at
   * the local nodes, then `overrides`.
   */
  bootstrap(overrides: { [k: string]: string } = {}): RunResult {
    const job = this.manifests.job;
    const scripts = path.join(this.options.root, 'bootstrap-scripts');
    fs.mkdirSync(scripts, { recursive: true });
    const argv = [...job.command, ...job.args ?? []].map((a: string) => {
      const content = this.manifests.files[a];
      if (content === undefined) return a;
      const file = path.join(scripts, path.posix.basename(a));
      fs.writeFileSync(file, content, { mode: 0o555 });
      return file;
    });
    const env = this.containerEnv(job);
    return run(argv[0], argv.slice(1), { ...env, REDIS_NODES: this.localNodes(env.REDIS_NODES), ...overrides });
  }

  /** The client binary against one node, authenticated; the reply without the trailing newline. */
  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(this.manifests.cliBinary, ['-p', String(port), ...args], {
      env: { PATH: process.env.PATH, REDISCLI_AUTH: this.options.password }, timeout: 30_000,
    });
    return stdout.trim();
  }

  /** The synchronous form, for tests that run between awaits anyway (it blocks the event loop). */
  cliSync(port: number, ...args: string[]): string {
    return run(this.manifests.cliBinary, ['-p', String(port), ...args], { REDISCLI_AUTH: this.options.password }).stdout.trim();
  }

  async clusterInfo(port: number): Promise<{ [k: string]: string }> {
    return parseInfo(await this.cli(port, 'CLUSTER', 'INFO'));
  }

  async role(port: number): Promise<RedisRole> {
    const lines = (await this.cli(port, 'ROLE')).split('\n').map(l => l.trim());
    return lines[0] === 'slave' ? { role: 'slave', masterPort: Number(lines[2]), state: lines[3] } : { role: lines[0] };
  }
}

/** `key:value` lines (INFO, CLUSTER INFO) as an object. */
export function parseInfo(text: string): { [k: string]: string } {
  return Object.fromEntries(text.split(/\r?\n/).filter(l => l.includes(':')).map(l => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
}
