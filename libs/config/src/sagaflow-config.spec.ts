import { loadConfig } from './sagaflow-config';

describe('loadConfig: SAGAFLOW_DEFINITIONS', () => {
  it('is empty when unset (the sample saga runs)', () => {
    expect(loadConfig({}).definitionModules).toEqual([]);
  });

  it('splits a comma-separated list and drops blanks', () => {
    expect(
      loadConfig({ SAGAFLOW_DEFINITIONS: ' dist/a.js, /abs/b.js ,,' }).definitionModules,
    ).toEqual(['dist/a.js', '/abs/b.js']);
  });
});
