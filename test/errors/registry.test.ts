import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/errors/index.js';
import { renderErrorsDoc } from '../../src/errors/render-doc.js';

const PREFIXES = [
  'NET_',
  'SEL_',
  'RES_',
  'DS_',
  'IPAM_',
  'CLIENT_',
  'CLI_',
  'CNI_',
  'KERNEL_',
  'NODE_',
];

describe('error registry', () => {
  it('docs/errors.md lists exactly the registered codes (run `npm run docs:errors`)', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    assert.equal(doc, renderErrorsDoc());
  });

  it('every code has a module prefix, a summary and a usable CNI code', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      if (code !== 'INTERNAL') {
        assert.ok(
          PREFIXES.some((p) => code.startsWith(p)),
          `${code} has no module prefix`,
        );
      }
      assert.ok(spec.summary.length > 10, `${code} needs a summary`);
      assert.ok(spec.exitCode >= 1, `${code} must exit non-zero`);
      // The CNI spec's own codes (1-7, 11, 50, 51), or calico-ipam's 999 for plugin errors.
      assert.ok(
        [1, 2, 3, 4, 5, 6, 7, 11, 50, 51, 999].includes(spec.cniCode),
        `${code}: CNI code ${spec.cniCode} is neither a CNI spec code nor calico-ipam's 999`,
      );
      if (spec.category === 'unavailable') assert.ok(spec.retryable, `${code} should be retryable`);
    }
  });
});
