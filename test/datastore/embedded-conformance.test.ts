// The shared datastore conformance suite on the embedded (SQLite) backend, in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConformanceSuite } from '../../src/datastore/conformance/suite.js';
import type { EmbeddedConfig } from '../../src/datastore/config-types.js';
import { openEmbeddedStore } from '../../src/datastore/embedded/index.js';

const root = mkdtempSync(join(tmpdir(), 'cidrpool-embedded-conformance-'));
const config: EmbeddedConfig = { type: 'embedded', dataDir: join(root, 'data') };

defineConformanceSuite('embedded', {
  open: () => openEmbeddedStore(config),
  workerConfig: () => config,
  teardown: async () => rmSync(root, { recursive: true, force: true }),
});
