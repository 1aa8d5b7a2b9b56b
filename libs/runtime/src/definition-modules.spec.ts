import { sampleDefinitions } from '@sagaflow/sample-order';
import { loadDefinitionModules, ModuleLoader } from './definition-modules';
import { InvalidDefinitionModuleError } from './runtime-errors';

const [orderSaga] = sampleDefinitions;

/** A loader over an in-memory table of absolute paths; a missing path fails like `require`. */
function modules(table: Record<string, unknown>): { load: ModuleLoader; loaded: string[] } {
  const loaded: string[] = [];
  return {
    loaded,
    load: (path) => {
      loaded.push(path);
      if (!(path in table)) throw new Error(`Cannot find module '${path}'\nRequire stack: …`);
      return table[path];
    },
  };
}

function failure(run: () => unknown): InvalidDefinitionModuleError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidDefinitionModuleError) return error;
    throw error;
  }
  throw new Error('expected InvalidDefinitionModuleError');
}

describe('loadDefinitionModules', () => {
  it('runs the fallback (the sample saga) when no module is named', () => {
    const { load, loaded } = modules({});
    expect(loadDefinitionModules([], sampleDefinitions, load)).toEqual([orderSaga]);
    expect(loaded).toEqual([]);
  });

  it('takes `definitions` or a default export from each module, resolved from the working directory', () => {
    const other = { ...orderSaga, compiled: { ...orderSaga!.compiled, version: 2 } };
    const { load, loaded } = modules({
      '/srv/app/dist/a.js': { definitions: [orderSaga] },
      '/abs/b.js': { default: [other] },
    });
    const loadedDefinitions = loadDefinitionModules(
      ['dist/a.js', '/abs/b.js'],
      sampleDefinitions,
      load,
      '/srv/app',
    );
    expect(loadedDefinitions).toEqual([orderSaga, other]);
    expect(loaded).toEqual(['/srv/app/dist/a.js', '/abs/b.js']);
  });

  it.each([
    ['a module that cannot be loaded', {}, /could not be loaded \(Cannot find module/],
    ['no definitions export', { '/m.js': { orderSaga } }, /exports no `definitions` array/],
    ['an empty list', { '/m.js': { definitions: [] } }, /empty `definitions` array/],
    [
      'an unbuilt saga',
      { '/m.js': { definitions: [orderSaga, { name: 'draft', steps: [] }] } },
      /definitions\[1\], which is not a built saga definition \(call \.build\(\)/,
    ],
  ])('stops with a message naming the module and the fix: %s', (_case, table, problem) => {
    const error = failure(() => loadDefinitionModules(['/m.js'], [], modules(table).load, '/'));
    expect(error.code).toBe('INVALID_DEFINITION_MODULE');
    expect(error.modulePath).toBe('/m.js');
    expect(error.message).toMatch(problem);
    expect(error.message).toMatch(/^SAGAFLOW_DEFINITIONS names \/m\.js, which /);
    expect(error.message).toContain('each exporting `definitions`');
    expect(error.message).not.toContain('Require stack');
  });
});
