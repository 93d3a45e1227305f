// Faults on real sockets: a portal of its own (the release binary, embedded bucket, a fresh data
// folder) that a test can kill and restart, behind a loopback TCP proxy that can cut a
// connection after a number of bytes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const binary = path.resolve(__dirname, '../../target/release/upload-portal');
const siteRoot = path.resolve(__dirname, '../../target/site');

/** An argon2 hash for a users file, as the operator makes one: `upload-portal --hash-password`. */
export function hashPassword(password: string): string {
  const made = spawnSync(binary, ['--hash-password'], { input: `${password}\n`, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`--hash-password failed: ${made.stderr}`);
  return made.stdout.trim();
}

/** A users file (`name:hash[:root[:admin]]` lines) for `PORTAL_USERS_FILE`, from name → password,
 * root and admin; returns its path. */
export function usersFile(accounts: Record<string, string | { password: string; root: string; admin?: boolean }>): string {
  const file = path.join(fs.mkdtempSync('/tmp/portal-users-'), 'users');
  const lines = Object.entries(accounts).map(([name, account]) =>
    typeof account === 'string'
      ? `${name}:${hashPassword(account)}`
      : `${name}:${hashPassword(account.password)}:${account.root}${account.admin ? ':admin' : ''}`,
  );
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Forwards 127.0.0.1:listenPort to 127.0.0.1:targetPort. `cutAfter(n, times)` arms cuts: the
 * next connections whose client has sent more than n bytes are reset. `stallAfter(n)` makes the
 * next connection stop reading from the client after n bytes, like a network black hole. */
export class CuttingProxy {
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  private armed: number | null = null;
  private cutsLeft = 0;
  private stallAt: number | null = null;
  private stalled = new Set<net.Socket>();
  cuts = 0;
  stalls = 0;
  connections = 0;

  constructor(readonly listenPort: number, readonly targetPort: number) {
    this.server = net.createServer((client) => this.relay(client));
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.listenPort, '127.0.0.1', resolve));
  }

  cutAfter(bytes: number, times = 1) {
    this.armed = bytes;
    this.cutsLeft = times;
  }

  stallAfter(bytes: number) {
    this.stallAt = bytes;
  }

  private relay(client: net.Socket) {
    this.connections += 1;
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let sent = 0;
    let stalled = false;
    client.on('data', (chunk: Buffer) => {
      if (stalled) return;
      const before = sent;
      sent += chunk.length;
      if (this.stallAt !== null && sent > this.stallAt) {
        // Forward up to the limit, then read no more: the sender's buffers fill and it stops.
        upstream.write(chunk.subarray(0, Math.max(0, this.stallAt - before)));
        this.stallAt = null;
        this.stalls += 1;
        stalled = true;
        this.stalled.add(upstream);
        client.pause();
        return;
      }
      const limit = this.armed;
      if (limit !== null && sent > limit) {
        this.cutsLeft -= 1;
        if (this.cutsLeft <= 0) this.armed = null;
        this.cuts += 1;
        // Forward the bytes up to the limit, then cut: the bucket sees the body end early,
        // the browser sees its connection reset.
        upstream.end(chunk.subarray(0, Math.max(0, limit - before)));
        client.resetAndDestroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  /** Ends the black hole: the stalled connections are closed towards the bucket. */
  releaseStalled() {
    for (const socket of this.stalled) socket.destroy();
    this.stalled.clear();
  }

  async stop() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export interface FaultPortalOptions {
  sitePort: number;
  bucketPort: number;
  /** The bucket's URL as the browser reaches it (a proxy in front of bucketPort). */
  bucketUrl?: string;
  env?: Record<string, string>;
}

/** A portal of the test's own, started from the release binary with a clean environment. */
export class FaultPortal {
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-faults-'));
  readonly url: string;
  readonly log: string[] = [];
  private child: ChildProcess | null = null;
  private readonly env: Record<string, string>;

  constructor(readonly options: FaultPortalOptions) {
    this.url = `http://127.0.0.1:${options.sitePort}`;
    this.env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LEPTOS_SITE_ROOT: siteRoot,
      LEPTOS_SITE_ADDR: `127.0.0.1:${options.sitePort}`,
      PORTAL_BUCKET_ADDR: `127.0.0.1:${options.bucketPort}`,
      PORTAL_DATA_DIR: this.dataDir,
      OSS_ACCESS_KEY_ID: 'LTAIfaults',
      OSS_ACCESS_KEY_SECRET: `faults-${randomBytes(12).toString('hex')}`,
      RUST_LOG: 'info',
      ...(options.bucketUrl ? { PORTAL_BUCKET_URL: options.bucketUrl } : {}),
      ...(options.env ?? {}),
    };
  }

  get secret() {
    return this.env.OSS_ACCESS_KEY_SECRET;
  }

  async start() {
    const child = spawn(binary, [], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (data: Buffer) => this.log.push(data.toString());
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.child = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the fault portal exited: ${this.log.join('')}`);
      try {
        if ((await fetch(this.url)).ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`the fault portal did not start: ${this.log.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Kills the process at once (SIGKILL: no graceful shutdown, like a crash). */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  async stop() {
    await this.kill();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  objectsDir() {
    return path.join(this.dataDir, 'portal-dev', 'objects');
  }

  /** Stored objects under the folder, relative to it. */
  stored(folder: string): string[] {
    const dir = path.join(this.objectsDir(), ...folder.split('/').filter(Boolean));
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  }

  read(key: string): Buffer {
    return fs.readFileSync(path.join(this.objectsDir(), ...key.split('/')));
  }

  /** Files the bucket is still writing (partial uploads live only here). */
  partials(): string[] {
    const dir = path.join(this.dataDir, 'portal-dev', 'tmp');
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  }
}
