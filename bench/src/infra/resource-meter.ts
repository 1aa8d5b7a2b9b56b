import { backendPids, xactCommits } from './database';
import { cpuSeconds, peakRssMiB } from './proc-stats';

/** A process (or group of processes, e.g. the database's server backends) whose CPU is measured. */
export interface Probe {
  readonly label: string;
  /** Fixed pids, or a lookup made at each snapshot. */
  readonly pids: readonly number[] | (() => Promise<readonly number[]>);
}

/** A database whose commits are counted. */
export interface CommitSource {
  readonly label: string;
  readonly server: string;
  readonly database: string;
}

interface Snapshot {
  readonly at: number;
  readonly cpu: Map<string, Map<number, number>>;
  readonly commits: Map<string, number>;
}

/** What the processes and databases did between two snapshots. */
export interface Usage {
  readonly seconds: number;
  /** CPU seconds per probe. */
  readonly cpuSeconds: Record<string, number>;
  /** Peak RSS (MiB) per probe at the end: the largest of its processes. */
  readonly peakRssMiB: Record<string, number>;
  readonly commits: Record<string, number>;
}

/** Snapshots CPU (`/proc`) and commits (`pg_stat_database`) at a window's open and close. */
export class ResourceMeter {
  private opened: Snapshot | null = null;
  private closed: Snapshot | null = null;

  constructor(
    private readonly probes: readonly Probe[],
    private readonly sources: readonly CommitSource[],
  ) {}

  async open(): Promise<void> {
    this.opened = await this.snapshot();
  }

  async close(): Promise<void> {
    this.closed = await this.snapshot();
  }

  usage(): Usage {
    const a = this.opened;
    const b = this.closed;
    if (!a || !b) throw new Error('the meter was not opened and closed');
    const cpu: Record<string, number> = {};
    const rss: Record<string, number> = {};
    for (const [label, after] of b.cpu) {
      const before = a.cpu.get(label) ?? new Map<number, number>();
      // A process that appeared inside the window counts from zero.
      cpu[label] = [...after].reduce((sum, [pid, s]) => sum + s - (before.get(pid) ?? 0), 0);
      rss[label] = Math.max(0, ...[...after.keys()].map(peakRssMiB));
    }
    const commits: Record<string, number> = {};
    for (const [label, n] of b.commits) commits[label] = n - (a.commits.get(label) ?? 0);
    return { seconds: (b.at - a.at) / 1000, cpuSeconds: cpu, peakRssMiB: rss, commits };
  }

  private async snapshot(): Promise<Snapshot> {
    const cpu = new Map<string, Map<number, number>>();
    for (const probe of this.probes) {
      const pids = typeof probe.pids === 'function' ? await probe.pids() : probe.pids;
      cpu.set(probe.label, new Map(pids.map((pid) => [pid, cpuSeconds(pid)])));
    }
    const commits = new Map<string, number>();
    for (const s of this.sources) commits.set(s.label, await xactCommits(s.server, s.database));
    return { at: Date.now(), cpu, commits };
  }
}

/** The server backends of one database, found anew at each snapshot. */
export function databaseBackends(label: string, server: string, database: string): Probe {
  return { label, pids: () => backendPids(server, database) };
}
