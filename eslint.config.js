// Lint rules, including the import direction of STYLE.md:
//   errors <- net, selector <- resources <- datastore/api <- ipam <- client <- dataplane
//     <- kernel <- cli, cni, node, http
// dataplane is the node agent's pure core (desired kernel state from datastore state); kernel
// holds the thin adapters that apply it (`ip`, `bridge`, `nft`, `bird`/`birdc`). The entry
// points (cli, cni, node, http) do not import each other, except that the `cidrpool` command line
// hands its `node` and `dashboard` commands to node/ and http/, and the node agent runs the CNI
// plugin's commands through src/cni/in-agent.ts. Only the entry points may reach a
// concrete datastore (embedded/, etcd/, open.ts).
import tseslint from 'typescript-eslint';

const concreteStores = [
  '**/datastore/embedded/**',
  '**/datastore/etcd/**',
  '**/datastore/etcd-gateway/**',
  '**/datastore/open.js',
];
const folders = [
  'errors',
  'net',
  'selector',
  'resources',
  'datastore',
  'ipam',
  'client',
  'dataplane',
  'kernel',
  'cli',
  'cni',
  'node',
  'http',
];

/** Forbid imports of the given sibling folders of src/ from files in `from`. */
function layer(from, forbidden, { concrete = true, allowed = [] } = {}) {
  const patterns = forbidden.map((name) => ({
    group: [
      `../${name}/**`,
      `../../${name}/**`,
      `../../../${name}/**`,
      ...allowed.filter((path) => path.startsWith(`${name}/`)).map((path) => `!../${path}`),
    ],
    message: `src/${from} may not import src/${name} (see STYLE.md, "Direction of imports").`,
  }));
  if (concrete) {
    patterns.push({
      group: concreteStores,
      message: 'Only the entry points (cli, cni, node, http) choose a concrete datastore.',
    });
  }
  return {
    files: [`src/${from}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

const above = (name) => folders.slice(folders.indexOf(name) + 1);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  layer('errors', above('errors')),
  layer(
    'net',
    above('net')
      .filter((name) => name !== 'selector')
      .concat('selector'),
  ),
  layer('selector', [...above('selector'), 'net']),
  layer('resources', above('resources')),
  {
    ...layer('datastore', above('datastore'), { concrete: false }),
    ignores: ['src/datastore/open.ts'],
  },
  layer('ipam', above('ipam')),
  layer('client', above('client')),
  layer('dataplane', above('dataplane')),
  layer('kernel', above('kernel')),
  layer('cli', ['cni'], { concrete: false }),
  layer('cni', ['cli', 'node', 'http'], { concrete: false }),
  // The node agent runs the CNI plugin's own commands for it (IPAM socket): one module.
  layer('node', ['cli', 'cni', 'http'], { concrete: false, allowed: ['cni/in-agent.js'] }),
  layer('http', ['cli', 'cni', 'node'], { concrete: false }),
);
