import { withTransaction } from '@sagaflow/persistence';
import { StartSaga } from '@sagaflow/runtime';
import fc from 'fast-check';
import { ApiKeyService, POLICY } from '../../apps/admin-api/src/auth';
import {
  AdminApp,
  exampleBody,
  exampleValue,
  OpenApiDocument,
  operationOf,
  requestSchema,
  requestTo,
  startAdminApi,
} from '../support/admin-app';
import { createMigratedStore, orderInput, TestStore } from '../support/fixtures';

/**
 * Generated from the policy table and the OpenAPI document: for every route, fast-check sends
 * path parameters, query strings, bodies and headers, starting from the documented examples
 * and bending them (wrong types, missing fields, odd strings, unknown properties), as an
 * operator and as an admin. No answer may be a 5xx, and no unknown property (they all carry
 * MARK in their name and value) may end up in any table.
 */
const MARK = 'zqx9fuzz';
const RUNS = Number(process.env.SAGAFLOW_FUZZ_RUNS ?? 30);
const ROUTES = Object.keys(POLICY).map((key) => key.split(' ') as [string, string]);

let store: TestStore;
let admin: AdminApp;
let openApi: OpenApiDocument;
const targets: Record<string, string[]> = { sagas: [], 'parked-messages': [], 'api-keys': [] };

beforeAll(async () => {
  store = await createMigratedStore({ prefix: 'sagaflow_fuzz' });
  admin = await startAdminApi({ databaseUrl: store.url });
  openApi = (await admin.http().get('/docs-json').set('X-API-Key', admin.keys.viewer).expect(200))
    .body as OpenApiDocument;
  for (let i = 0; i < 3; i += 1) {
    const input = orderInput();
    const { instance } = await admin.app.get(StartSaga).execute({
      sagaType: 'order',
      input,
      idempotencyKey: `fuzz-${input.orderId}`,
      businessKey: input.orderId,
      actor: 'test',
    });
    targets.sagas!.push(instance.id);
    const [parked] = await store.dataSource.query(
      `INSERT INTO parked_message (topic, body, reason_code, reason, saga_id)
       VALUES ('t.sagaflow.replies', '{"x":1}', 'malformed-reply', 'fuzz target', $1) RETURNING id`,
      [instance.id],
    );
    targets['parked-messages']!.push(String(parked.id));
  }
  await withTransaction(store.dataSource, async (sql) => {
    const keys = admin.app.get(ApiKeyService).repository;
    const spare = await keys.create(sql, {
      name: 'fuzz-target',
      role: 'viewer',
      createdBy: 'test',
    });
    targets['api-keys']!.push(spare.view.id);
  });
});

afterAll(async () => {
  await admin?.close();
  await store?.close();
});

describe('every route', () => {
  describe.each(ROUTES)('%s %s', (method, routePath) => {
    it('never answers 5xx, whatever the path, query, body and headers', async () => {
      await fc.assert(
        fc.asyncProperty(requestArb(method, routePath), async (r) => {
          const req = requestTo(admin, method, `${r.path}${r.query}`).set(
            'X-API-Key',
            admin.keys[r.role],
          );
          for (const [name, value] of Object.entries(r.headers)) req.set(name, value);
          // Sent as text: supertest would refuse a bare number or boolean as a body.
          if (method !== 'GET') {
            req.set('content-type', 'application/json').send(r.rawBody ?? JSON.stringify(r.body));
          }
          const res = await req;
          if (res.status >= 500) {
            throw new Error(`${res.status} ${JSON.stringify(res.body)} for ${JSON.stringify(r)}`);
          }
        }),
        { numRuns: RUNS },
      );
    });
  });

  // Declared last in the same block, so it runs after every route was fuzzed.
  it('persisted none of the unknown properties it sent, anywhere', async () => {
    const tables: Array<{ table_name: string }> = await store.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const found: string[] = [];
    for (const { table_name: table } of tables) {
      const [row] = await store.dataSource.query(
        `SELECT count(*)::int AS n FROM "${table}" t WHERE t::text ILIKE $1`,
        [`%${MARK}%`],
      );
      if (row.n > 0) found.push(`${table}: ${row.n} row(s)`);
    }
    expect(found).toEqual([]);
  });
});

// ------------------------------------------------------------------ arbitraries

interface FuzzRequest {
  role: 'operator' | 'admin';
  path: string;
  query: string;
  headers: Record<string, string>;
  body: unknown;
  /** Sent as is instead of `body` (broken JSON, NUL escapes…). */
  rawBody: string | null;
}

function requestArb(method: string, routePath: string): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    role: fc.constantFrom('operator' as const, 'admin' as const),
    path: pathArb(routePath),
    query: queryArb(method, routePath),
    headers: headersArb(),
    body: method === 'GET' ? fc.constant(null) : bodyArb(method, routePath),
    rawBody: fc.oneof(
      { weight: 7, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: rawBodyArb() },
    ),
  });
}

const oddStrings = fc.constantFrom(
  '',
  ' ',
  '0',
  '-1',
  '1.5',
  '1e309',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '9'.repeat(30),
  '2020-13-45T99:99:99Z',
  '../../etc/passwd',
  "'; DROP TABLE saga_instance; --",
  'x'.repeat(2000),
  '\u202e\u0301',
  '😀',
  'event:1',
);

function pathArb(routePath: string): fc.Arbitrary<string> {
  const resource = routePath.split('/')[1] ?? '';
  const params = routePath.match(/:[A-Za-z]+/g) ?? [];
  const real = targets[resource] ?? [];
  const param = fc.oneof(
    { weight: 3, arbitrary: real.length > 0 ? fc.constantFrom(...real) : fc.uuid() },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: oddStrings.filter((s) => s.length > 0).map(encodeURIComponent) },
    {
      weight: 2,
      arbitrary: fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
        .map(encodeURIComponent),
    },
    // Broken percent-encoding, sent raw: Express cannot decode it.
    { weight: 1, arbitrary: fc.constantFrom('%E0%A4%A', '%', '%zz', '%00') },
    { weight: 1, arbitrary: fc.constantFrom('order', '1', '0', '-1', '99999999999999999999') },
  );
  return fc
    .tuple(...params.map(() => param))
    .map((values) => params.reduce((path, name, i) => path.replace(name, values[i]!), routePath));
}

function queryArb(method: string, routePath: string): fc.Arbitrary<string> {
  const known = (operationOf(openApi, method, routePath)?.parameters ?? []).filter(
    (p) => p.in === 'query',
  );
  const knownPair = known.length
    ? fc
        .constantFrom(...known)
        .chain((p) =>
          fc.tuple(
            fc.constant(p.name),
            fc.oneof(
              fc.constant(String(exampleValue(openApi, p.schema ?? {}))),
              oddStrings,
              fc.string({ maxLength: 50 }),
            ),
          ),
        )
    : fc.constant(['limit', '10'] as [string, string]);
  const unknownPair = fc.tuple(
    fc.string({ maxLength: 6 }).map((s) => `${MARK}${s}`),
    fc.constant(`${MARK}v`),
  );
  return fc
    .array(fc.oneof({ weight: 3, arbitrary: knownPair }, { weight: 1, arbitrary: unknownPair }), {
      maxLength: 5,
    })
    .map((pairs) =>
      pairs.length === 0
        ? ''
        : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`,
    );
}

function headersArb(): fc.Arbitrary<Record<string, string>> {
  const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 250 });
  const some = fc.record(
    {
      'Idempotency-Key': fc.oneof(printable, fc.uuid()),
      'If-Match': fc.oneof(fc.nat({ max: 20 }).map(String), printable, fc.constant('"3"')),
    },
    { requiredKeys: [] },
  );
  return fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: some });
}

/**
 * The documented example, as is (so handlers run) or bent one way: a field replaced by any
 * JSON or an odd string, a field dropped, unknown properties added (top level or nested).
 */
function bodyArb(method: string, routePath: string): fc.Arbitrary<unknown> {
  const example = exampleBody(openApi, method, routePath);
  const props = Object.keys(requestSchema(openApi, method, routePath)?.properties ?? {});
  const unknownKey = fc.string({ maxLength: 6 }).map((s) => `${MARK}${s}`);
  const unknownValue = fc.constantFrom<unknown>(`${MARK}v`, { [`${MARK}n`]: 1 }, [`${MARK}a`]);
  const withUnknown = fc
    .record({
      unknown: fc.dictionary(unknownKey, unknownValue, { minKeys: 1, maxKeys: 2 }),
      nested: fc.boolean(),
    })
    .map(({ unknown, nested }) => {
      const body: Record<string, unknown> = structuredClone(example);
      if (nested) addToNestedObjects(body, `${MARK}nested`);
      if (!nested || !Object.values(body).some(isPlainObject)) Object.assign(body, unknown);
      return body;
    });
  const bent: Array<fc.WeightedArbitrary<unknown>> = [
    { weight: 4, arbitrary: fc.constant(example) },
    { weight: 3, arbitrary: withUnknown },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  ];
  if (props.length > 0) {
    const field = fc.constantFrom(...props);
    bent.push(
      {
        weight: 3,
        arbitrary: fc
          .tuple(field, fc.oneof(fc.jsonValue({ maxDepth: 2 }), oddStrings))
          .map(([name, value]) => ({ ...structuredClone(example), [name]: value })),
      },
      {
        weight: 1,
        arbitrary: field.map((name) => {
          const body: Record<string, unknown> = structuredClone(example);
          delete body[name];
          return body;
        }),
      },
    );
  }
  return fc.oneof(...bent);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function addToNestedObjects(body: Record<string, unknown>, key: string): void {
  for (const value of Object.values(body)) if (isPlainObject(value)) value[key] = `${MARK}v`;
}

function rawBodyArb(): fc.Arbitrary<string> {
  return fc.constantFrom(
    '{"reason":',
    '{"reason":"a\\u0000b"}',
    '{"\\u0000":1}',
    '"just a string"',
    '12',
    'null',
    '[]',
    '{"__proto__":{"polluted":"' + MARK + '"}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '\u00ff\u00fe',
  );
}
