import { Rng } from './random';

/**
 * What a saga is told to meet on its way, chosen by the driver at start and carried in its
 * `orderId` (the only field every command of the order saga has, compensations included), so
 * the simulated participants know it without shared state and the checker can read it back.
 *
 * | flag | meaning                                                      |
 * | ---- | ------------------------------------------------------------ |
 * | `rc` | credit rejects the reservation (business rejection)          |
 * | `ri` | inventory rejects the reservation                            |
 * | `dp` | payment declines the charge (the pivot fails)                |
 * | `rf` | order rejects the confirmation (past the pivot: `failed`)    |
 * | `pc` | credit's release fails for good (tagged permanent failure)   |
 * | `pi` | inventory's release fails for good                           |
 */
export type PlanFlag = 'rc' | 'ri' | 'dp' | 'rf' | 'pc' | 'pi';

export interface SagaPlan {
  readonly flags: ReadonlySet<PlanFlag>;
}

export interface PlanRates {
  readonly rejectCredit: number;
  readonly rejectInventory: number;
  readonly declinePayment: number;
  readonly rejectConfirm: number;
  /** Of the sagas that will compensate a step, the share whose compensation fails for good. */
  readonly permanentCompensationFailure: number;
}

const FLAGS: readonly PlanFlag[] = ['rc', 'ri', 'dp', 'rf', 'pc', 'pi'];

export function drawPlan(rng: Rng, rates: PlanRates): SagaPlan {
  const flags = new Set<PlanFlag>();
  const roll = rng.next();
  let edge = rates.rejectCredit;
  if (roll < edge) flags.add('rc');
  else if (roll < (edge += rates.rejectInventory)) flags.add('ri');
  else if (roll < (edge += rates.declinePayment)) flags.add('dp');
  else if (roll < (edge += rates.rejectConfirm)) flags.add('rf');
  if ((flags.has('ri') || flags.has('dp')) && rng.chance(rates.permanentCompensationFailure)) {
    // Only steps that completed are compensated: inventory's release runs only after `dp`.
    flags.add(flags.has('dp') && rng.chance(0.5) ? 'pi' : 'pc');
  }
  return { flags };
}

/** `<run>-<n>-<flags>`, e.g. `k3f9-17-dp.pi` or `k3f9-18-ok`. */
export function orderIdOf(run: string, n: number, plan: SagaPlan): string {
  const flags = FLAGS.filter((f) => plan.flags.has(f));
  return `${run}-${n}-${flags.length > 0 ? flags.join('.') : 'ok'}`;
}

/** The plan an `orderId` carries; an id the harness did not make has no flags. */
export function planOf(orderId: string): SagaPlan {
  const last = orderId.slice(orderId.lastIndexOf('-') + 1);
  const flags = new Set<PlanFlag>(
    last.split('.').filter((f): f is PlanFlag => (FLAGS as readonly string[]).includes(f)),
  );
  return { flags };
}

export type FinalStatus = 'completed' | 'compensated';

/** The saga's steps in the sample order definition, by index. */
export const ORDER_STEPS = [
  'reserveCredit',
  'reserveInventory',
  'chargePayment',
  'confirmOrder',
  'notifyCustomer',
] as const;
export type OrderStep = (typeof ORDER_STEPS)[number];
export const PIVOT_INDEX = 2;
export const COMPENSATABLE: readonly OrderStep[] = ['reserveCredit', 'reserveInventory'];

/** Which participant applies each step. */
export const SERVICE_OF: Record<OrderStep, ChaosService> = {
  reserveCredit: 'credit',
  reserveInventory: 'inventory',
  chargePayment: 'payment',
  confirmOrder: 'order',
  notifyCustomer: 'order',
};
export const SERVICES = ['credit', 'inventory', 'payment', 'order'] as const;
export type ChaosService = (typeof SERVICES)[number];
export const ledgerSchema = (service: ChaosService) => `chaos_${service}`;

/**
 * Where the plan leads once the operator (the driver) has done what a human would: skip a
 * rejected confirmation, mark a permanently failed compensation done by hand.
 */
export function expectedStatus(plan: SagaPlan): FinalStatus {
  const f = plan.flags;
  return f.has('rc') || f.has('ri') || f.has('dp') ? 'compensated' : 'completed';
}

/** The forward effects the plan implies, before any operator intervention. */
export function expectedForwards(plan: SagaPlan): OrderStep[] {
  const f = plan.flags;
  if (f.has('rc')) return [];
  if (f.has('ri')) return ['reserveCredit'];
  if (f.has('dp')) return ['reserveCredit', 'reserveInventory'];
  if (f.has('rf')) return ['reserveCredit', 'reserveInventory', 'chargePayment', 'notifyCustomer'];
  return [...ORDER_STEPS];
}

/** A valid order saga input for saga `n`. */
export function orderInput(run: string, n: number, plan: SagaPlan, rng: Rng) {
  return {
    orderId: orderIdOf(run, n, plan),
    customerId: `${run}-c${n % 97}`,
    sku: `SKU-${rng.int(1, 40)}`,
    quantity: rng.int(1, 3),
    amount: rng.int(5, 500),
    card: '4242424242424242',
  };
}
