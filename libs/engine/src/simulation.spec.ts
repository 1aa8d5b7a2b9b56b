import fc from 'fast-check';
import { toInstance, toRow } from '@sagaflow/persistence';
import { SagaInstance } from './saga-instance';
import { KnownBug } from './simulation/model';
import { happyCaseArb, SimCase, simCaseArb } from './simulation/moves';
import { REGRESSIONS } from './simulation/regressions';
import { RunOptions, RunReport, runCase } from './simulation/runner';

/*
 * The simulation tier (docs/reliability.md): random definitions built with the DSL, random
 * events on a virtual clock, the engine's decisions checked against a reference model and the
 * invariants after every event, then liveness. Environment:
 *   SAGAFLOW_SIM_RUNS     runs of the main property (default 600; the focused ones run half)
 *   SAGAFLOW_SIM_SEED     the seed (printed at the start and in every failure)
 *   SAGAFLOW_SIM_PATH     with the seed, replays a reported failure: pick its test with -t
 *   SAGAFLOW_SIM_VERBOSE  fast-check verbosity (0, 1, 2)
 *   SAGAFLOW_SIM_STRICT=1 tolerate no known engine bug
 */

/** The shell's storage: the persistence mapper's row, through JSON (a jsonb column). */
const reload = (instance: SagaInstance): SagaInstance =>
  toInstance(JSON.parse(JSON.stringify(toRow(instance))));

/** Engine bugs the main property steps around until they are fixed (see regressions.ts). */
const KNOWN_BUGS: readonly KnownBug[] = [];

const runs = Number(process.env.SAGAFLOW_SIM_RUNS ?? 600);
const seed = Number(process.env.SAGAFLOW_SIM_SEED ?? Date.now() % 2 ** 31);
const path = process.env.SAGAFLOW_SIM_PATH;
/** 0: the shrunk counterexample only; 1: every failure met while shrinking; 2: every run. */
const verbose = Number(process.env.SAGAFLOW_SIM_VERBOSE ?? 0);
/** SAGAFLOW_SIM_STRICT=1: tolerate no known bug (to see how fast the search finds them). */
const strict = process.env.SAGAFLOW_SIM_STRICT === '1';
const options: RunOptions = { reload, model: { tolerate: strict ? [] : KNOWN_BUGS } };

function settings(numRuns: number): fc.Parameters<[unknown]> {
  return { seed, numRuns, verbose, ...(path ? { path, endOnFailure: true } : {}) };
}

describe('simulation tier', () => {
  beforeAll(() => {
    process.stdout.write(
      `simulation: seed=${seed} runs=${runs} (replay: SAGAFLOW_SIM_SEED=${seed}${path ? ` SAGAFLOW_SIM_PATH=${path}` : ''})\n`,
    );
  });

  describe('regressions (replayed first)', () => {
    for (const r of REGRESSIONS) {
      (r.skip ? it.skip : it)(`${r.name} [${r.bug.split(':')[0]}]`, () => {
        runCase(r.case, { reload });
      });
      const bug = r.skip;
      if (!bug) continue;
      it(`${r.name}: still runs into the known bug ${bug}`, () => {
        let report: RunReport;
        try {
          report = runCase(r.case, { reload, model: { tolerate: [bug] } });
        } catch (error) {
          throw new Error(
            `The case no longer behaves like the known engine bug "${bug}": if the engine was fixed, remove "${bug}" from KNOWN_BUGS in simulation.spec.ts and \`skip\` from this regression.\n${String(error)}`,
          );
        }
        expect(report.knownBugsHit).toContain(bug);
      });
    }
  });

  const property = (name: string, arbitrary: fc.Arbitrary<SimCase>, numRuns: number) =>
    it(
      name,
      () => {
        const figures = new Figures();
        fc.assert(
          fc.property(arbitrary, (c) => {
            figures.add(runCase(c, options));
          }),
          settings(numRuns),
        );
        process.stdout.write(`simulation figures (${name}): ${figures}\n`);
      },
      120_000,
    );

  property(
    'decisions match the reference model and the invariants hold after every event',
    simCaseArb(),
    runs,
  );
  property(
    'the same, focused on parallel groups, author faults and operator actions',
    simCaseArb({ focus: 'parallel' }),
    Math.max(10, Math.round(runs / 2)),
  );
  property(
    'the same, focused on parallel members waiting out backoffs side by side',
    simCaseArb({ focus: 'backoff' }),
    Math.max(10, Math.round(runs / 2)),
  );

  it('participants that only succeed, in any order, complete every saga without a compensation', () => {
    fc.assert(
      fc.property(happyCaseArb(), (c) => {
        const report = runCase(c, options);
        expect(report.final).toBe('completed');
        expect(report.settled).toBe('completed');
      }),
      settings(Math.max(10, Math.round(runs / 3))),
    );
  }, 60_000);
});

/** Totals over the runs of a property, for the log. */
class Figures {
  private cases = 0;
  private events = 0;
  private crashes = 0;
  private readonly tally: Record<string, number> = {};

  add(r: RunReport): void {
    this.cases++;
    this.events += r.events;
    this.crashes += r.crashes;
    this.count(`settled:${r.settled}`);
    this.count(`final:${r.final}`);
    for (const [k, v] of Object.entries({ ...r.decisions, ...prefix('op:', r.operator) }))
      this.count(k, v);
  }

  private count(key: string, by = 1): void {
    this.tally[key] = (this.tally[key] ?? 0) + by;
  }

  toString(): string {
    const tally = Object.entries(this.tally)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return `cases=${this.cases} events=${this.events} crashes=${this.crashes} ${tally}`;
  }
}

function prefix(p: string, record: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [p + k, v]));
}
