import { PROFILES, Profile, scaled } from './profiles';

export interface RunArgs {
  readonly profile: Profile;
  readonly seed: number | null;
  /** Keep the run's database and broker data even when every invariant holds. */
  readonly keep: boolean;
  /** Break the store after the drain: every invariant broken must fail (a test of the checker). */
  readonly sabotage: boolean;
}

export const USAGE = `usage: npm run chaos -- [--profile smoke|long] [--seed N] [--scale F] [--sagas N] [--rate R] [--no-faults] [--pg-restart] [--redis-restart] [--keep] [--sabotage]

  --profile   smoke (default: ${PROFILES.smoke.sagas} sagas, a handful of each fault) or long (${PROFILES.long.sagas} sagas, ${PROFILES.long.nemesis.randomKills + PROFILES.long.nemesis.doubleKills} kills plus crash points)
  --seed      replays a run's plan: sagas, participant misbehaviour and fault schedule (printed first)
  --scale     multiplies sagas and every fault count (e.g. --profile long --scale 0.1)
  --sagas     number of sagas (after --scale)
  --rate      sagas started per second
  --no-faults no nemesis and well-behaved participants: a baseline of the same checks
  --pg-restart the PostgreSQL outages stop and start the whole server (pg_ctlcluster, fast
              shutdown) instead of cutting the run's database: only where nobody else uses it
  --redis-restart the Redis outages shut the whole server down (no save) and start it again
              instead of deleting the run's keys: only where nobody else uses it
  --keep      keep the database and the broker's data dir (always kept when a check fails)
  --sabotage  a test of the checker: break the store in one known way per invariant after the
              drain; passes (exit 0) only if every broken invariant is reported FAIL`;

/** Parses the command line; throws with the usage on anything it does not know. */
export function parseArgs(argv: readonly string[]): RunArgs {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (['keep', 'no-faults', 'sabotage', 'pg-restart', 'redis-restart', 'help'].includes(name))
      flags.set(name, true);
    else flags.set(name, inline ?? argv[++i] ?? '');
  }
  if (flags.has('help')) throw new Error(USAGE);
  const known = [
    'profile',
    'seed',
    'scale',
    'sagas',
    'rate',
    'keep',
    'no-faults',
    'sabotage',
    'pg-restart',
    'redis-restart',
  ];
  const unknown = [...flags.keys()].filter((f) => !known.includes(f));
  if (unknown.length > 0) throw new Error(`unknown option --${unknown[0]}\n${USAGE}`);
  const name = String(flags.get('profile') ?? 'smoke');
  if (name !== 'smoke' && name !== 'long')
    throw new Error(`--profile must be smoke or long\n${USAGE}`);
  let profile = scaled(PROFILES[name], number(flags, 'scale', 1));
  if (flags.has('sagas'))
    profile = { ...profile, sagas: Math.round(number(flags, 'sagas', profile.sagas)) };
  if (flags.has('rate'))
    profile = { ...profile, startsPerSecond: number(flags, 'rate', profile.startsPerSecond) };
  if (flags.has('pg-restart'))
    profile = { ...profile, nemesis: { ...profile.nemesis, pgOutage: 'restart' } };
  if (flags.has('redis-restart'))
    profile = { ...profile, nemesis: { ...profile.nemesis, redisOutage: 'restart' } };
  if (flags.has('no-faults')) profile = withoutFaults(profile);
  return {
    profile,
    seed: flags.has('seed') ? Math.round(number(flags, 'seed', 0)) : null,
    keep: flags.has('keep'),
    sabotage: flags.has('sabotage'),
  };
}

function number(flags: Map<string, string | true>, name: string, fallback: number): number {
  if (!flags.has(name)) return fallback;
  const value = Number(flags.get(name));
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number\n${USAGE}`);
  return value;
}

function withoutFaults(profile: Profile): Profile {
  const zero = scaled(profile, 0);
  return {
    ...zero,
    sagas: profile.sagas,
    participants: {
      ...profile.participants,
      transient: 0,
      slow: 0,
      lateReply: 0,
      duplicateReply: 0,
      crashAfterApply: 0,
      crashBudget: 0,
    },
  };
}
