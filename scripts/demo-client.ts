/**
 * The demo's client: starts one order that completes and one whose card is declined (so it is
 * compensated), waits for both, and prints their final states and timelines.
 * Talks to the admin API only, as any operator tool would.
 */
const API = process.env.ADMIN_API_URL ?? `http://127.0.0.1:${process.env.ADMIN_API_PORT ?? 3000}`;
/** Every admin API call is authenticated; demo.sh creates an operator key for this client. */
const AUTH = { authorization: `Bearer ${process.env.SAGAFLOW_API_KEY ?? ''}` };

interface TimelineLine {
  at: string;
  version: number;
  type: string;
  step: string | null;
  kind: string | null;
  attempt: number | null;
  actor: string;
  detail: Record<string, unknown>;
}

interface SagaView {
  id: string;
  status: string;
  version: number;
  lastError: { step: string; type: string; message: string } | null;
  timeline: TimelineLine[];
}

async function startOrder(label: string, card: string): Promise<string> {
  const run = Date.now().toString(36);
  const input = {
    orderId: `${label}-${run}`,
    customerId: 'customer-42',
    sku: 'SKU-DEMO',
    quantity: 2,
    amount: 99.5,
    card,
  };
  const res = await fetch(`${API}/sagas`, {
    method: 'POST',
    headers: {
      ...AUTH,
      'content-type': 'application/json',
      'idempotency-key': `demo-${label}-${run}`,
    },
    body: JSON.stringify({ sagaType: 'order', input, businessKey: input.orderId }),
  });
  const body = (await res.json()) as { id: string };
  if (res.status !== 201)
    throw new Error(`POST /sagas answered ${res.status}: ${JSON.stringify(body)}`);
  return body.id;
}

async function waitFinished(id: string): Promise<SagaView> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const saga = (await (await fetch(`${API}/sagas/${id}`, { headers: AUTH })).json()) as SagaView;
    if (['completed', 'compensated', 'failed'].includes(saga.status)) return saga;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`saga ${id} did not finish within 60 s`);
}

function print(title: string, saga: SagaView): void {
  console.log(
    `\n${title}\n  saga ${saga.id}: ${saga.status.toUpperCase()} (version ${saga.version})`,
  );
  if (saga.lastError)
    console.log(
      `  cause: ${saga.lastError.step} ${saga.lastError.type}: ${saga.lastError.message}`,
    );
  const t0 = new Date(saga.timeline[0]!.at).getTime();
  for (const line of saga.timeline) {
    const ms = String(new Date(line.at).getTime() - t0).padStart(5);
    const what = [
      line.type.padEnd(18),
      line.step ?? '',
      line.kind ?? '',
      line.attempt ? `#${line.attempt}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const outcome =
      (line.detail.outcome as { status?: string; type?: string } | undefined) ?? undefined;
    const extra = outcome ? ` → ${outcome.status}${outcome.type ? ` (${outcome.type})` : ''}` : '';
    console.log(`  +${ms} ms  v${line.version}  ${what}${extra}`);
  }
}

async function main(): Promise<void> {
  const [ok, declined] = await Promise.all([
    startOrder('ok', '4242424242424242'),
    startOrder('declined', '4000000000000002'),
  ]);
  const [a, b] = await Promise.all([waitFinished(ok), waitFinished(declined)]);
  print('Order with a good card: every step runs', a);
  print(
    'Order with a declined card: the payment (pivot) fails, reservations are undone in reverse',
    b,
  );
  const good = a.status === 'completed' && b.status === 'compensated';
  console.log(`\ndemo ${good ? 'succeeded' : 'FAILED'}: one saga ${a.status}, one ${b.status}`);
  process.exit(good ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
