import { DBOS } from '@dbos-inc/dbos-sdk';
import { benchReply } from '../saga/bench-replies';

/**
 * The same three steps as the bench saga, as a DBOS workflow: each step does what a bench
 * participant does (answer at once with a fresh id) and DBOS checkpoints its output. The step
 * timeout mirrors the saga's per-step timeout (DBOS keeps it in memory).
 */
export function registerBenchWorkflow(stepTimeoutMs: number | null) {
  const step = (name: string, commandType: string) =>
    DBOS.runStep(async () => benchReply(commandType), {
      name,
      ...(stepTimeoutMs ? { timeoutMS: stepTimeoutMs } : {}),
    });
  return DBOS.registerWorkflow(
    async (input: { orderId: string; amount: number }) => {
      const { reservationId } = await step('reserve', 'bench.reserve');
      const { chargeId } = await step('charge', 'bench.charge');
      const { confirmedAt } = await step('confirm', 'bench.confirm');
      return { ...input, reservationId, chargeId, confirmedAt };
    },
    { name: 'benchWorkflow' },
  );
}
