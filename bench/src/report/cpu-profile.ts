import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

export interface ProfileLine {
  readonly name: string;
  /** Share of all samples, in percent. */
  readonly selfPercent: number;
  /** Share including callees (a function on the stack several times counts once per sample). */
  readonly totalPercent?: number;
}

export interface ProfileSummary {
  readonly seconds: number;
  /** Share of the window the process was busy (not idle), in percent of one core. */
  readonly busyPercent: number;
  readonly topSelf: readonly ProfileLine[];
  /** Self time by where the code lives: a package in node_modules, a Sagaflow lib, node itself, GC. */
  readonly byModule: readonly ProfileLine[];
  /** Inclusive time of the Sagaflow functions that matter most. */
  readonly topTotal: readonly ProfileLine[];
}

/** Reads a `.cpuprofile` and says where the time went. */
export function summariseProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totalHits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
  const idle = profile.nodes
    .filter((n) => n.callFrame.functionName === '(idle)')
    .reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
    add(self, frameName(node), hits);
    add(modules, moduleOf(node.callFrame.url, node.callFrame.functionName), hits);
  }
  const inclusive = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): number => {
    const node = byId.get(id)!;
    let hits = node.hitCount ?? 0;
    const name = frameName(node);
    const fresh = !onStack.has(name);
    if (fresh) onStack.add(name);
    for (const child of node.children ?? []) hits += walk(child, onStack);
    if (fresh) {
      onStack.delete(name);
      add(inclusive, name, hits);
    }
    return hits;
  };
  walk(profile.nodes[0]!.id, new Set());
  const busy = totalHits - idle;
  const percent = (n: number) => Math.round((1000 * n) / busy) / 10;
  const lines = (m: Map<string, number>, filter: (name: string) => boolean = () => true) =>
    [...m]
      .filter(([name]) => filter(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, n]) => ({ name, selfPercent: percent(n) }));
  return {
    seconds: (profile.endTime - profile.startTime) / 1e6,
    busyPercent: Math.round((1000 * busy) / totalHits) / 10,
    topSelf: lines(self),
    byModule: lines(modules),
    topTotal: [...inclusive]
      .filter(([name]) => name.includes('libs/') && !name.startsWith('(anonymous)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, n]) => ({ name, selfPercent: NaN, totalPercent: percent(n) })),
  };
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (!url) return functionName || '(anonymous)';
  return `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url.replace(/^node:/, 'node:');
}

function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const lib = /\/dist\/(libs\/[^/]+|apps\/[^/]+|bench)\//.exec(url);
  if (lib) return lib[1]!;
  return url.startsWith('node:') ? 'node (core)' : url;
}
