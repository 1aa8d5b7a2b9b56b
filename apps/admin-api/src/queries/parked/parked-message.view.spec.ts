import { StoredParkedMessage } from '@sagaflow/persistence';
import { parkedDetailView } from './parked-message.view';
import { replayRefusal } from './resolve-parked-message';

const message = (body: string | null): StoredParkedMessage => ({
  id: '1',
  topic: 'replies',
  partition: 0,
  offset: '5',
  key: 'k',
  reasonCode: 'malformed',
  reason: 'why',
  sagaId: null,
  status: 'parked',
  parkedAt: new Date(0),
  bodyBytes: body === null ? null : Buffer.byteLength(body),
  resolution: null,
  headers: {},
  body,
});

describe('parked message body for viewers', () => {
  it('leaves the body as it is when nothing is to be hidden', () => {
    expect(parkedDetailView(message('{"a" : 1}'), []).body).toBe('{"a" : 1}');
    expect(parkedDetailView(message('{"a" : 1}'), ['card'])).toMatchObject({
      body: '{"a" : 1}',
      bodyRedacted: false,
    });
    expect(parkedDetailView(message('{"cardholder":1}'), ['card'])).toMatchObject({
      bodyRedacted: false,
    });
  });

  it('redacts sensitive fields of a JSON body at any depth', () => {
    const view = parkedDetailView(message('{"data":{"card":"4111"},"n":1}'), ['card']);
    expect(view).toMatchObject({
      body: '{"data":{"card":"[redacted]"},"n":1}',
      bodyRedacted: true,
    });
  });

  it('withholds a body that is not JSON but names a sensitive field', () => {
    expect(parkedDetailView(message('card=4111'), ['card'])).toMatchObject({
      body: null,
      bodyRedacted: true,
    });
    expect(parkedDetailView(message(null), ['card'])).toMatchObject({
      body: null,
      bodyRedacted: false,
    });
  });
});

describe('replayRefusal', () => {
  it.each<[string | null, RegExp | null]>([
    ['{"messageId":"m-1"}', null],
    ['[1,2]', null],
    ['"text"', null],
    [null, /no body/],
    ['null', /JSON null/],
    ['{oops', /not JSON/],
    ['{"a":"\\u0000"}', /jsonb/],
    ['{"a":"\\ud800"}', /jsonb/],
  ])('%s → %s', (body, refusal) => {
    const found = replayRefusal(body);
    if (refusal === null) expect(found).toBeNull();
    else expect(found).toMatch(refusal);
  });
});
