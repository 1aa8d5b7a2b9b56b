import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  commandMessageId,
  decide,
  Decision,
  idempotencyKey,
  SagaEvent,
  SagaInstance,
  SendCommandEffect,
} from '@sagaflow/engine';
import {
  decodeCommand,
  decodeReply,
  encodeCommand,
  encodeReply,
  HEADERS,
  PROTOCOL,
  ReplyEnvelope,
  replyMessageId,
} from '@sagaflow/messaging';
import { addTransition, emptyWrites, Writes } from '@sagaflow/runtime';
import { validate } from '@sagaflow/saga-dsl';
import { ChargePayment, orderSaga, ReleaseInventory } from '@sagaflow/sample-order';

/*
 * Pins the exact wire form of sagaflow.v1 and proves that the examples in docs/protocol.md are
 * real: the command examples are what the engine and the outbox produce for the sample order
 * saga, and the reply examples decode and are accepted by the engine. Pure: no broker needed.
 */

// ---------------------------------------------------------------- the examples of docs/protocol.md, verbatim

const FORWARD_COMMAND = `{
  "protocol": "sagaflow.v1",
  "messageId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward:1",
  "sagaId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b",
  "sagaType": "order",
  "sagaVersion": 1,
  "step": "chargePayment",
  "kind": "forward",
  "attempt": 1,
  "idempotencyKey": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward",
  "commandType": "payment.charge",
  "replyTopic": "prod.sagaflow.replies",
  "expectsReply": true,
  "compensates": null,
  "payload": { "orderId": "order-1001", "amount": 100, "card": "4242424242424242" }
}`;

const FORWARD_HEADERS = `sagaflow-protocol: sagaflow.v1
sagaflow-message-id: 3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward:1
sagaflow-saga-id: 3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b
sagaflow-saga-type: order
sagaflow-step: chargePayment
sagaflow-kind: forward
sagaflow-attempt: 1
sagaflow-message-type: payment.charge
sagaflow-idempotency-key: 3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward
sagaflow-reply-topic: prod.sagaflow.replies
content-type: application/json
traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`;

const COMPENSATE_COMMAND = `{
  "protocol": "sagaflow.v1",
  "messageId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:reserveInventory:compensate:1",
  "sagaId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b",
  "sagaType": "order",
  "sagaVersion": 1,
  "step": "reserveInventory",
  "kind": "compensate",
  "attempt": 1,
  "idempotencyKey": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:reserveInventory:compensate",
  "commandType": "inventory.release",
  "replyTopic": "prod.sagaflow.replies",
  "expectsReply": true,
  "compensates": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:reserveInventory:forward",
  "payload": { "orderId": "order-1001", "reservationId": "inv-5a20" }
}`;

const UNKNOWN_OUTCOME_COMMAND = `{
  "protocol": "sagaflow.v1",
  "messageId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:reserveInventory:compensate:1",
  "sagaId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b",
  "sagaType": "order",
  "sagaVersion": 1,
  "step": "reserveInventory",
  "kind": "compensate",
  "attempt": 1,
  "idempotencyKey": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:reserveInventory:compensate",
  "commandType": "inventory.release",
  "replyTopic": "prod.sagaflow.replies",
  "expectsReply": true,
  "compensates": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:reserveInventory:forward",
  "payload": { "orderId": "order-1001" }
}`;

const NOTIFICATION_COMMAND = `{
  "protocol": "sagaflow.v1",
  "messageId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:notifyCustomer:forward:1",
  "sagaId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b",
  "sagaType": "order",
  "sagaVersion": 1,
  "step": "notifyCustomer",
  "kind": "forward",
  "attempt": 1,
  "idempotencyKey": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:notifyCustomer:forward",
  "commandType": "order.notify-customer",
  "replyTopic": "prod.sagaflow.replies",
  "expectsReply": false,
  "compensates": null,
  "payload": { "orderId": "order-1001", "customerId": "customer-42", "template": "order-confirmed" }
}`;

const SUCCESS_REPLY = `{
  "protocol": "sagaflow.v1",
  "messageId": "reply:3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward:1",
  "inReplyTo": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward:1",
  "sagaId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b",
  "step": "chargePayment",
  "kind": "forward",
  "attempt": 1,
  "idempotencyKey": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward",
  "outcome": "success",
  "data": { "chargeId": "ch-91f3" }
}`;

const DECLINED_REPLY = `{
  "protocol": "sagaflow.v1",
  "messageId": "reply:3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward:1",
  "inReplyTo": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward:1",
  "sagaId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b",
  "step": "chargePayment",
  "kind": "forward",
  "attempt": 1,
  "idempotencyKey": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward",
  "outcome": "failure",
  "failure": { "retryable": false, "type": "card-declined", "message": "the card was declined" }
}`;

const TRANSIENT_REPLY = `{
  "protocol": "sagaflow.v1",
  "messageId": "reply:3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward:1",
  "inReplyTo": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward:1",
  "sagaId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b",
  "step": "chargePayment",
  "kind": "forward",
  "attempt": 1,
  "idempotencyKey": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:chargePayment:forward",
  "outcome": "failure",
  "failure": {
    "retryable": true,
    "type": "participant-error",
    "message": "connection to the card processor timed out"
  }
}`;

const COMPENSATED_REPLY = `{
  "protocol": "sagaflow.v1",
  "messageId": "reply:3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:reserveInventory:compensate:1",
  "inReplyTo": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:reserveInventory:compensate:1",
  "sagaId": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b",
  "step": "reserveInventory",
  "kind": "compensate",
  "attempt": 1,
  "idempotencyKey": "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b:reserveInventory:compensate",
  "outcome": "success",
  "data": {}
}`;

/** The doc's JSON examples, in the order they appear on the page. */
const LIFECYCLE_EVENT = `{
  "protocol": "sagaflow.v1",
  "eventId": "8d4c2f9e-6a1b-4c3d-9e8f-0a1b2c3d4e5f:v5:3",
  "type": "saga.completed",
  "sagaId": "8d4c2f9e-6a1b-4c3d-9e8f-0a1b2c3d4e5f",
  "sagaType": "order",
  "sagaVersion": 1,
  "businessKey": "order-1001",
  "version": 5,
  "step": null,
  "detail": {}
}`;

const DOC_JSON_EXAMPLES = [
  FORWARD_COMMAND,
  COMPENSATE_COMMAND,
  UNKNOWN_OUTCOME_COMMAND,
  NOTIFICATION_COMMAND,
  SUCCESS_REPLY,
  DECLINED_REPLY,
  TRANSIENT_REPLY,
  COMPENSATED_REPLY,
  LIFECYCLE_EVENT,
];

// ---------------------------------------------------------------- the sample saga that produced them

const SAGA_ID = '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TOPICS = { topicPrefix: 'prod.', replyTopic: 'prod.sagaflow.replies' };
const INPUT = {
  orderId: 'order-1001',
  customerId: 'customer-42',
  sku: 'SKU-1',
  quantity: 2,
  amount: 100,
  card: '4242424242424242',
};

/** The envelope keys of a command (order is not significant on the wire: the outbox is jsonb). */
const COMMAND_KEYS = [
  'protocol',
  'messageId',
  'sagaId',
  'sagaType',
  'sagaVersion',
  'step',
  'kind',
  'attempt',
  'idempotencyKey',
  'commandType',
  'replyTopic',
  'expectsReply',
  'compensates',
  'payload',
];

type Applied = Extract<Decision, { kind: 'applied' }>;

function applied(decision: Decision): Applied {
  if (decision.kind !== 'applied') throw new Error(`expected applied, got ${decision.kind}`);
  return decision;
}

/** What the shell writes for an applied decision: outbox rows, timers armed and cancelled. */
function writesOf(decision: Applied, traceparent?: string): Writes {
  const writes = emptyWrites();
  addTransition(
    writes,
    decision.next,
    decision.effects,
    decision.journal,
    'test',
    TOPICS,
    traceparent,
  );
  return writes;
}

function outboxOf(decision: Applied, traceparent?: string) {
  return writesOf(decision, traceparent).outbox;
}

/** The commands of a decision, in order. */
function commandsOf(decision: Applied): SendCommandEffect[] {
  return decision.effects.filter((e): e is SendCommandEffect => e.type === 'sendCommand');
}

/** Feeds a reply envelope to the engine exactly as the reply batch processor does. */
function replyEvent(reply: ReplyEnvelope): SagaEvent {
  return {
    type: 'replyReceived',
    messageId: reply.messageId,
    step: reply.step,
    kind: reply.kind,
    attempt: reply.attempt,
    outcome:
      reply.outcome === 'success'
        ? { status: 'success', data: reply.data }
        : { status: 'failure', ...reply.failure },
  };
}

function successEvent(step: string, data: unknown): SagaEvent {
  return {
    type: 'replyReceived',
    messageId: `reply:${step}`,
    step,
    kind: 'forward',
    attempt: 1,
    outcome: { status: 'success', data },
  };
}

/** The order saga after credit is reserved: awaiting reserveInventory attempt 1. */
function awaitingInventory() {
  const started = applied(
    decide(orderSaga, null, { type: 'started', sagaId: SAGA_ID, input: INPUT, businessKey: null }),
  );
  return applied(
    decide(orderSaga, started.next, successEvent('reserveCredit', { reservationId: 'cr-7c1e' })),
  );
}

/** The order saga after credit and inventory are reserved: awaiting chargePayment attempt 1. */
function awaitingCharge() {
  return applied(
    decide(
      orderSaga,
      awaitingInventory().next,
      successEvent('reserveInventory', { reservationId: 'inv-5a20' }),
    ),
  );
}

/**
 * reserveInventory never answers: each attempt times out (30 s), the retries wait their
 * backoff, and after the third attempt the saga gives up and compensates.
 */
function inventoryGivenUp() {
  let state = awaitingInventory();
  for (let attempt = 1; ; attempt++) {
    state = applied(
      decide(orderSaga, state.next, {
        type: 'timedOut',
        step: 'reserveInventory',
        kind: 'forward',
        attempt,
      }),
    );
    if (state.next.status !== 'running') return state;
    state = applied(
      decide(orderSaga, state.next, {
        type: 'retryDue',
        step: 'reserveInventory',
        kind: 'forward',
        attempt: attempt + 1,
      }),
    );
  }
}

function decodedReply(json: string): ReplyEnvelope {
  const decoded = decodeReply(json);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.value;
}

function parseHeaderBlock(block: string): Record<string, string> {
  return Object.fromEntries(
    block.split('\n').map((line) => {
      const at = line.indexOf(': ');
      return [line.slice(0, at), line.slice(at + 2)];
    }),
  );
}

// ---------------------------------------------------------------- tests

describe('docs/protocol.md', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');
  /** The fenced code blocks of the page with the given info string, in order. */
  const fenced = (lang: string) => {
    const blocks: string[] = [];
    let open: { lang: string; lines: string[] } | null = null;
    for (const line of doc.split('\n')) {
      if (!open && line.startsWith('```')) open = { lang: line.slice(3).trim(), lines: [] };
      else if (open && line === '```') {
        if (open.lang === lang) blocks.push(open.lines.join('\n'));
        open = null;
      } else open?.lines.push(line);
    }
    return blocks;
  };

  it('shows exactly the JSON examples this test checks, in order', () => {
    expect(fenced('json')).toEqual(DOC_JSON_EXAMPLES);
  });

  it('shows exactly the command headers this test checks', () => {
    expect(fenced('').filter((b) => b.startsWith('sagaflow-protocol:'))).toEqual([FORWARD_HEADERS]);
  });
});

describe('the wire form of a command', () => {
  it('pins a forward command: topic, key, every header and the envelope (the doc example)', () => {
    const writes = writesOf(awaitingCharge(), TRACEPARENT);
    const [message, ...more] = writes.outbox;
    expect(more).toEqual([]);
    // The charge's timeout (1m) is armed with it; reserveInventory's is disarmed.
    expect(writes.schedule).toEqual([
      {
        key: `${SAGA_ID}:chargePayment:forward:1:timeout`,
        sagaId: SAGA_ID,
        delayMs: 60_000,
        event: { type: 'timedOut', step: 'chargePayment', kind: 'forward', attempt: 1 },
      },
    ]);
    expect(writes.cancel).toEqual([`${SAGA_ID}:reserveInventory:forward:1:timeout`]);
    expect(message!.topic).toBe('prod.payment.commands');
    expect(message!.key).toBe(SAGA_ID);
    expect(message!.messageId).toBe(`${SAGA_ID}:chargePayment:forward:1`);
    expect(message!.headers).toEqual(parseHeaderBlock(FORWARD_HEADERS));
    expect(message!.body).toEqual(JSON.parse(FORWARD_COMMAND));
    expect(Object.keys(message!.body as object).sort()).toEqual([...COMMAND_KEYS].sort());
  });

  it('pins a compensate command: `compensates` names the forward key (the doc example)', () => {
    const declined = applied(
      decide(orderSaga, awaitingCharge().next, replyEvent(decodedReply(DECLINED_REPLY))),
    );
    expect(declined.next.status).toBe('compensating');
    const [message, ...more] = outboxOf(declined, TRACEPARENT);
    expect(more).toEqual([]);
    expect(message!.topic).toBe('prod.inventory.commands');
    expect(message!.key).toBe(SAGA_ID);
    expect(message!.body).toEqual(JSON.parse(COMPENSATE_COMMAND));
    expect(Object.keys(message!.body as object).sort()).toEqual([...COMMAND_KEYS].sort());
    expect(message!.headers).toEqual({
      'sagaflow-protocol': 'sagaflow.v1',
      'sagaflow-message-id': `${SAGA_ID}:reserveInventory:compensate:1`,
      'sagaflow-saga-id': SAGA_ID,
      'sagaflow-saga-type': 'order',
      'sagaflow-step': 'reserveInventory',
      'sagaflow-kind': 'compensate',
      'sagaflow-attempt': '1',
      'sagaflow-message-type': 'inventory.release',
      'sagaflow-idempotency-key': `${SAGA_ID}:reserveInventory:compensate`,
      'sagaflow-reply-topic': 'prod.sagaflow.replies',
      'content-type': 'application/json',
      traceparent: TRACEPARENT,
    });
  });

  it('pins a compensation whose forward never answered: no log, so the payload carries only the order id (the doc example)', () => {
    const givenUp = inventoryGivenUp();
    expect(givenUp.next).toMatchObject({
      status: 'compensating',
      currentStep: 1,
      remaining: [0],
      cause: { step: 'reserveInventory', type: 'timeout' },
      completed: [
        { index: 0, log: { reservationId: 'cr-7c1e' } },
        { index: 1, log: undefined, unknown: true },
      ],
    });
    const [message, ...more] = outboxOf(givenUp);
    expect(more).toEqual([]);
    expect(message!.topic).toBe('prod.inventory.commands');
    expect(message!.body).toEqual(JSON.parse(UNKNOWN_OUTCOME_COMMAND));
  });

  it('pins a notification: `expectsReply` is false, no timeout is armed and the saga does not wait (the doc example)', () => {
    const charged = applied(
      decide(orderSaga, awaitingCharge().next, replyEvent(decodedReply(SUCCESS_REPLY))),
    );
    const confirmed = applied(
      decide(orderSaga, charged.next, {
        ...successEvent('confirmOrder', { confirmedAt: '2026-01-01T00:00:00Z' }),
      }),
    );
    expect(confirmed.next.status).toBe('completed');
    const writes = writesOf(confirmed, TRACEPARENT);
    const [message, ...more] = writes.outbox;
    expect(more).toEqual([]);
    expect(message!.topic).toBe('prod.order.commands');
    expect(message!.body).toEqual(JSON.parse(NOTIFICATION_COMMAND));
    expect(message!.headers).toMatchObject({
      'sagaflow-message-type': 'order.notify-customer',
      'sagaflow-step': 'notifyCustomer',
      traceparent: TRACEPARENT,
    });
    expect(message!.headers).not.toHaveProperty('sagaflow-expects-reply');
    expect(writes.schedule).toEqual([]);
    // Completing disarms the confirmOrder timeout and the saga's deadline.
    expect(writes.cancel).toEqual([
      `${SAGA_ID}:confirmOrder:forward:1:timeout`,
      `${SAGA_ID}:deadline`,
    ]);
  });

  it('sends no traceparent header when the orchestrator has none; every other header is always there', () => {
    const [message] = outboxOf(awaitingCharge());
    const { traceparent: _dropped, ...expected } = parseHeaderBlock(FORWARD_HEADERS);
    expect(message!.headers).toEqual(expected);
    expect(Object.keys(message!.headers).sort()).toEqual(
      Object.values(HEADERS)
        .filter((h) => h !== HEADERS.traceparent)
        .sort(),
    );
  });

  it('encodeCommand mirrors the body into the headers and keys the message by saga id', () => {
    const body = decodeCommand(COMPENSATE_COMMAND);
    if (!body.ok) throw new Error(body.reason);
    const wire = encodeCommand(body.value, 'prod.inventory.commands');
    expect(wire.key).toBe(body.value.sagaId);
    expect(wire.body).toEqual(JSON.parse(COMPENSATE_COMMAND));
    expect(wire.headers[HEADERS.attempt]).toBe('1');
    expect(wire.headers[HEADERS.messageType]).toBe('inventory.release');
    expect(wire.headers[HEADERS.idempotencyKey]).toBe(body.value.idempotencyKey);
  });

  it('decodes every doc command as a valid envelope', () => {
    for (const json of [
      FORWARD_COMMAND,
      COMPENSATE_COMMAND,
      UNKNOWN_OUTCOME_COMMAND,
      NOTIFICATION_COMMAND,
    ]) {
      expect(decodeCommand(json)).toEqual({ ok: true, value: JSON.parse(json) });
    }
  });

  it('reads a missing `expectsReply` as true (older senders) and refuses a non-boolean one', () => {
    const { expectsReply: _dropped, ...without } = JSON.parse(FORWARD_COMMAND);
    expect(decodeCommand(JSON.stringify(without))).toMatchObject({
      ok: true,
      value: { expectsReply: true },
    });
    const wrong = decodeCommand(JSON.stringify({ ...without, expectsReply: 'false' }));
    expect(wrong).toMatchObject({ ok: false, reasonCode: 'malformed' });
    if (!wrong.ok) expect(wrong.errors.map((e) => e.path)).toEqual(['expectsReply']);
  });

  it('keeps the idempotency key across attempts and mints a new message id per attempt', () => {
    const charged = applied(
      decide(orderSaga, awaitingCharge().next, replyEvent(decodedReply(SUCCESS_REPLY))),
    );
    expect(commandsOf(charged)).toHaveLength(1);
    const first = commandsOf(charged)[0]!;
    expect(first).toMatchObject({ step: 'confirmOrder', attempt: 1 });
    const failed = applied(
      decide(orderSaga, charged.next, {
        type: 'replyReceived',
        messageId: replyMessageId(first.messageId),
        step: 'confirmOrder',
        kind: 'forward',
        attempt: 1,
        outcome: { status: 'failure', retryable: true, type: 'participant-error', message: 'x' },
      }),
    );
    // The retry waits for its backoff (confirmOrder: 500 ms, minus up to 20 % jitter).
    expect(commandsOf(failed)).toEqual([]);
    const [backoff] = writesOf(failed).schedule;
    expect(backoff).toMatchObject({
      key: `${SAGA_ID}:confirmOrder:forward:2:retry`,
      event: { type: 'retryDue', step: 'confirmOrder', kind: 'forward', attempt: 2 },
    });
    expect(backoff!.delayMs).toBeGreaterThanOrEqual(400);
    expect(backoff!.delayMs).toBeLessThanOrEqual(500);
    const retry = applied(
      decide(orderSaga, failed.next, {
        type: 'retryDue',
        step: 'confirmOrder',
        kind: 'forward',
        attempt: 2,
      }),
    );
    const second = commandsOf(retry)[0]!;
    expect(second).toMatchObject({ step: 'confirmOrder', kind: 'forward', attempt: 2 });
    expect(second.idempotencyKey).toBe(first.idempotencyKey);
    expect(second.messageId).not.toBe(first.messageId);
    expect(second.payload).toEqual(first.payload);
    expect(second.compensates).toBeNull();
    expect(first.messageId).toBe(commandMessageId(SAGA_ID, 'confirmOrder', 'forward', 1));
    expect(second.messageId).toBe(`${SAGA_ID}:confirmOrder:forward:2`);
    expect(second.idempotencyKey).toBe(idempotencyKey(SAGA_ID, 'confirmOrder', 'forward'));
    expect(second.idempotencyKey).toBe(`${SAGA_ID}:confirmOrder:forward`);
  });
});

describe('the wire form of a reply', () => {
  it.each([
    ['success', SUCCESS_REPLY],
    ['declined', DECLINED_REPLY],
    ['transient', TRANSIENT_REPLY],
    ['compensation success', COMPENSATED_REPLY],
  ])('decodeReply accepts the doc %s example verbatim', (_name, json) => {
    expect(decodeReply(json)).toEqual({ ok: true, value: JSON.parse(json) });
    expect(decodeReply(Buffer.from(json, 'utf8'))).toEqual({ ok: true, value: JSON.parse(json) });
    const reply = decodedReply(json);
    expect(reply.messageId).toBe(replyMessageId(reply.inReplyTo));
  });

  it('the doc replies carry data the sample reply schemas accept', () => {
    expect(validate(ChargePayment.reply, JSON.parse(SUCCESS_REPLY).data)).toMatchObject({
      ok: true,
    });
    expect(validate(ReleaseInventory.reply, JSON.parse(COMPENSATED_REPLY).data)).toMatchObject({
      ok: true,
    });
    expect(validate(ReleaseInventory.reply, { released: true })).toMatchObject({ ok: false });
  });

  it('the engine applies the doc replies as the doc says', () => {
    const charge = awaitingCharge().next;
    const success = applied(decide(orderSaga, charge, replyEvent(decodedReply(SUCCESS_REPLY))));
    expect(success.next).toMatchObject({
      status: 'running',
      stage: 3,
      pending: [{ step: 3, attempt: 1, waiting: 'reply' }],
    });
    // chargePayment (the pivot) has 3 attempts by default: a retryable failure is retried
    // after a backoff (1 s, minus up to 20 % jitter), with no command until then.
    const transient = applied(decide(orderSaga, charge, replyEvent(decodedReply(TRANSIENT_REPLY))));
    expect(transient.next).toMatchObject({
      status: 'running',
      pending: [{ step: 2, attempt: 2, waiting: 'retry' }],
    });
    expect(commandsOf(transient)).toEqual([]);
    expect(writesOf(transient).schedule).toEqual([
      expect.objectContaining({ key: `${SAGA_ID}:chargePayment:forward:2:retry` }),
    ]);
    const declined = applied(decide(orderSaga, charge, replyEvent(decodedReply(DECLINED_REPLY))));
    const released = applied(
      decide(orderSaga, declined.next, replyEvent(decodedReply(COMPENSATED_REPLY))),
    );
    expect(released.next).toMatchObject({ status: 'compensating', attempt: 1 });
    expect(commandsOf(released)).toEqual([
      expect.objectContaining({
        step: 'reserveCredit',
        kind: 'compensate',
        commandType: 'credit.release',
        payload: { orderId: 'order-1001', reservationId: 'cr-7c1e' },
        compensates: `${SAGA_ID}:reserveCredit:forward`,
        expectsReply: true,
      }),
    ]);
  });

  it('ignores a stale or late reply; rejects an unknown step or data that breaks the reply schema', () => {
    const charge = awaitingCharge().next;
    const success = decodedReply(SUCCESS_REPLY);
    expect(decide(orderSaga, charge, replyEvent({ ...success, attempt: 2 }))).toMatchObject({
      kind: 'ignored',
      reason: 'stale',
    });
    const compensated: SagaInstance = {
      ...charge,
      status: 'compensated',
      cause: { step: 'chargePayment', kind: 'forward', type: 'card-declined', message: 'x' },
    } as SagaInstance;
    expect(decide(orderSaga, compensated, replyEvent(success))).toMatchObject({
      kind: 'ignored',
      reason: 'late',
    });
    expect(decide(orderSaga, charge, replyEvent({ ...success, step: 'shipOrder' }))).toMatchObject({
      kind: 'rejected',
      reason: 'unknown-step',
    });
    expect(
      decide(
        orderSaga,
        charge,
        replyEvent({ ...success, data: { charge: 'ch-1' } } as ReplyEnvelope),
      ),
    ).toMatchObject({ kind: 'rejected', reason: 'invalid-reply' });
  });

  it('encodeReply writes the reply headers of the doc table', () => {
    const success = encodeReply(decodedReply(SUCCESS_REPLY), 'prod.sagaflow.replies', TRACEPARENT);
    expect(success.topic).toBe('prod.sagaflow.replies');
    expect(success.key).toBe(SAGA_ID);
    expect(success.headers).toEqual({
      'sagaflow-protocol': 'sagaflow.v1',
      'sagaflow-message-id': `reply:${SAGA_ID}:chargePayment:forward:1`,
      'sagaflow-saga-id': SAGA_ID,
      'sagaflow-step': 'chargePayment',
      'sagaflow-kind': 'forward',
      'sagaflow-attempt': '1',
      'sagaflow-message-type': 'reply.success',
      'content-type': 'application/json',
      traceparent: TRACEPARENT,
    });
    const failure = encodeReply(decodedReply(DECLINED_REPLY), 'prod.sagaflow.replies');
    expect(failure.headers['sagaflow-message-type']).toBe('reply.failure');
    expect(failure.headers).not.toHaveProperty('traceparent');
  });

  it('replyMessageId derives the reply id from the command id', () => {
    expect(replyMessageId(`${SAGA_ID}:chargePayment:forward:1`)).toBe(
      `reply:${SAGA_ID}:chargePayment:forward:1`,
    );
    expect(replyMessageId('opaque id 7')).toBe('reply:opaque id 7');
  });

  it('ignores unknown fields (and drops them), at the top level and inside `failure`', () => {
    const json = JSON.stringify({
      ...JSON.parse(DECLINED_REPLY),
      sentAt: '2026-01-01T00:00:00Z',
      data: { ignored: true },
      failure: { ...JSON.parse(DECLINED_REPLY).failure, code: 51 },
    });
    expect(decodeReply(json)).toEqual({ ok: true, value: JSON.parse(DECLINED_REPLY) });
  });

  describe('rejects an invalid reply as `malformed`', () => {
    const base = () => JSON.parse(DECLINED_REPLY) as Record<string, unknown>;
    const without = (key: string) => {
      const copy = base();
      delete copy[key];
      return copy;
    };

    it.each<[string, unknown, string]>([
      ['a missing field', without('step'), 'step'],
      ['a missing messageId', without('messageId'), 'messageId'],
      ['a missing inReplyTo', without('inReplyTo'), 'inReplyTo'],
      ['a missing idempotencyKey', without('idempotencyKey'), 'idempotencyKey'],
      ['a wrong protocol', { ...base(), protocol: 'sagaflow.v2' }, 'protocol'],
      ['a saga id that is not a UUID', { ...base(), sagaId: 'order-1001' }, 'sagaId'],
      ['attempt 0', { ...base(), attempt: 0 }, 'attempt'],
      ['a fractional attempt', { ...base(), attempt: 1.5 }, 'attempt'],
      ['an attempt as a string', { ...base(), attempt: '1' }, 'attempt'],
      ['an unknown kind', { ...base(), kind: 'undo' }, 'kind'],
      [
        'a failure without retryable',
        { ...base(), failure: { type: 'card-declined', message: 'the card was declined' } },
        'failure.retryable',
      ],
      ['a failure without its failure object', without('failure'), 'failure'],
      [
        'a failure with an empty type',
        { ...base(), failure: { retryable: false, type: '', message: '' } },
        'failure.type',
      ],
      ['an unknown outcome', { ...base(), outcome: 'timeout' }, 'outcome'],
      ['an empty messageId', { ...base(), messageId: '' }, 'messageId'],
      ['a messageId over 500 characters', { ...base(), messageId: 'x'.repeat(501) }, 'messageId'],
    ])('%s', (_what, body, path) => {
      const decoded = decodeReply(JSON.stringify(body));
      expect(decoded).toMatchObject({ ok: false, reasonCode: 'malformed' });
      if (decoded.ok) return;
      expect(decoded.errors.map((e) => e.path)).toContain(path);
      expect(decoded.reason).toContain(path);
    });

    it('a body that is not JSON, or no body at all', () => {
      expect(decodeReply('{"protocol": "sagaflow.v1",')).toMatchObject({
        ok: false,
        reasonCode: 'malformed',
        reason: 'reply body is not JSON',
      });
      expect(decodeReply(null)).toMatchObject({
        ok: false,
        reasonCode: 'malformed',
        reason: 'reply has no body',
      });
    });

    it('a NUL character anywhere, data included', () => {
      const body = { ...JSON.parse(SUCCESS_REPLY), data: { chargeId: 'ch-\u0000' } };
      expect(decodeReply(JSON.stringify(body))).toMatchObject({
        ok: false,
        reasonCode: 'malformed',
      });
    });
  });

  it('protocol constant and header names are the documented ones', () => {
    expect(PROTOCOL).toBe('sagaflow.v1');
    expect(HEADERS).toEqual({
      protocol: 'sagaflow-protocol',
      messageId: 'sagaflow-message-id',
      sagaId: 'sagaflow-saga-id',
      sagaType: 'sagaflow-saga-type',
      step: 'sagaflow-step',
      kind: 'sagaflow-kind',
      attempt: 'sagaflow-attempt',
      messageType: 'sagaflow-message-type',
      idempotencyKey: 'sagaflow-idempotency-key',
      replyTopic: 'sagaflow-reply-topic',
      contentType: 'content-type',
      traceparent: 'traceparent',
    });
  });
});

describe('the wire form of a lifecycle event', () => {
  it('has exactly the fields the doc example shows, keyed by saga id', () => {
    const writes = emptyWrites();
    const topics = {
      topicPrefix: 'prod.',
      replyTopic: 'prod.sagaflow.replies',
      lifecycleTopic: 'prod.sagaflow.lifecycle',
    };
    const event = {
      type: 'emitEvent' as const,
      eventId: '8d4c2f9e-6a1b-4c3d-9e8f-0a1b2c3d4e5f:v5:3',
      event: 'saga.completed' as const,
      sagaId: '8d4c2f9e-6a1b-4c3d-9e8f-0a1b2c3d4e5f',
      sagaType: 'order',
      sagaVersion: 1,
      businessKey: 'order-1001',
      version: 5,
    };
    const instance = awaitingCharge().next;
    addTransition(writes, { ...instance, id: event.sagaId }, [event], [], 'test', topics);
    const [message] = writes.outbox;
    expect(message).toMatchObject({
      topic: 'prod.sagaflow.lifecycle',
      key: event.sagaId,
      messageId: `event:${event.eventId}`,
    });
    expect(message!.body).toEqual(JSON.parse(LIFECYCLE_EVENT));
    expect(message!.headers).toEqual({
      'sagaflow-protocol': 'sagaflow.v1',
      'sagaflow-message-id': event.eventId,
      'sagaflow-saga-id': event.sagaId,
      'sagaflow-message-type': 'saga.completed',
      'content-type': 'application/json',
    });
  });
});
