import { Injectable } from '@nestjs/common';
import { DefinitionRepository, Sql } from '@sagaflow/persistence';
import { DefinitionRegistry } from '@sagaflow/runtime';
import { KnownDefinition } from './definition.view';

/**
 * Every definition version: this build's (the registry) and every one an orchestrator stored.
 * A version only in the store (an older build's, still with instances perhaps) is shown from
 * its stored compiled graph, which is the same serialisable `CompiledSaga`.
 */
@Injectable()
export class DefinitionCatalog {
  private readonly definitions = new DefinitionRepository();

  constructor(private readonly registry: DefinitionRegistry) {}

  async all(sql: Sql): Promise<KnownDefinition[]> {
    const stored = await this.definitions.list(sql);
    const live = await this.definitions.liveInstanceCounts(sql);
    const storedByKey = new Map(stored.map((s) => [key(s.name, s.version), s]));
    const graphs = new Map(stored.map((s) => [key(s.name, s.version), s.compiled]));
    // This build's graph wins: startup refused any stored graph that differs from it.
    for (const d of this.registry.all())
      graphs.set(key(d.compiled.name, d.compiled.version), d.compiled);
    return [...graphs]
      .map(([k, compiled]) => {
        const inBuild = this.registry.find(compiled.name, compiled.version) !== undefined;
        const row = storedByKey.get(k);
        return {
          compiled,
          inBuild,
          latest:
            inBuild && this.registry.latest(compiled.name).compiled.version === compiled.version,
          stored: row ? { hash: row.hash, registeredAt: row.registeredAt } : null,
          liveInstances: live.get(k) ?? 0,
        };
      })
      .sort(
        (a, b) =>
          a.compiled.name.localeCompare(b.compiled.name) || a.compiled.version - b.compiled.version,
      );
  }

  async find(sql: Sql, name: string, version: number): Promise<KnownDefinition | null> {
    return (
      (await this.all(sql)).find(
        (d) => d.compiled.name === name && d.compiled.version === version,
      ) ?? null
    );
  }
}

function key(name: string, version: number): string {
  return `${name}@${version}`;
}
